"""Keyed pseudonyms for child identifiers (HMAC-SHA256 with a per-LA key file).

A plain or salted hash of a six-digit child id is reversed by trying every id in under a
second; a keyed hash is not, as long as the key stays with the LA. The key lives in a file
(never on the command line, where process lists and shell history would keep it), is 32
random bytes, readable by its owner only, and never appears in any output or message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import pandas as pd

from .errors import CscMiningError, KeyFileError

KEY_BYTES = 32
#: pseudonyms are the first 128 bits of the HMAC, in hex
PSEUDONYM_HEX = 32
DOMAIN = "cscmining|v1|CHILD|"


def keygen(path: Path) -> Path:
    """Write a new 32-byte random key to ``path`` with owner-only permissions.

    Refuses to overwrite an existing key: losing a key makes last year's pseudonyms
    unlinkable to this year's.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key file already exists; it is not overwritten") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create the key file ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES))
    return path


def read_key(path: Path) -> bytes:
    """The key in ``path``, after checking it is private and strong enough."""
    if not path.is_file():
        raise KeyFileError(f"{path}: no such key file (make one with `cscmining keygen`)")
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: the key file can be read by others; run `chmod 600 {path}`")
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"{path}: the key is shorter than {KEY_BYTES} bytes")
    if len(set(key)) < 8:
        raise KeyFileError(f"{path}: the key is not random (too few distinct bytes)")
    return key


def fingerprint(key: bytes) -> str:
    """A short public name for a key, so logs made with different keys are never mixed."""
    return hmac.new(key, b"fingerprint", hashlib.sha256).hexdigest()[:8]


def pseudonymise(ids: pd.Series, key: bytes, la: str = "") -> pd.Series:
    """Replace each distinct id by its keyed pseudonym (computed once per distinct id)."""
    distinct = pd.Series(ids.unique())
    prefix = f"{DOMAIN}LA={la}|".encode()
    digests = distinct.map(
        lambda v: hmac.new(key, prefix + str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
    )
    if digests.nunique() != len(distinct):
        raise CscMiningError("two different child ids gave the same pseudonym; the run stops")
    lookup = dict(zip(distinct, digests))
    return ids.map(lookup)
