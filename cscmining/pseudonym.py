"""Keyed pseudonyms for child identifiers (HMAC-SHA256 with a per-LA key file).

A plain or salted hash of a six-digit child id is reversed by trying every id in under a
second; a keyed hash is not, as long as the key stays with the LA. The key lives in a file
(never on the command line, where process lists and shell history would keep it), is 32
random bytes, readable by its owner only, and never appears in any output or message.

The pseudonym of an id is ``HMAC-SHA256(key, "cscmining|v1|CHILD|LA=<la>|" + id)``, first
128 bits in hex: the LA code separates the domains, so the same id in two LAs' data gives
unrelated pseudonyms even under one key. The id is hashed exactly as the event log holds it
(already stripped of invisible edges; case and leading zeros kept), so pseudonymising never
merges or splits children. A log records the `fingerprint` of its key; logs made with
different keys (or one with and one without) must never be combined: `check_same_key`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import CscMiningError, KeyFileError, UsageError
from .outputs import check_not_shared

if TYPE_CHECKING:  # pandas costs ~0.25 s to import: the Parquet engines check keys without it
    import pandas as pd

KEY_BYTES = 32
#: a key file is 32 bytes; anything this large is some other file given by mistake
MAX_KEY_FILE = 1024
#: pseudonyms are the first 128 bits of the HMAC, in hex
PSEUDONYM_HEX = 32
DOMAIN = "cscmining|v1|CHILD|"
#: local authority codes: the DfE's three digits, or a short name
_LA = re.compile(r"[A-Za-z0-9_-]{0,32}")


def keygen(path: Path) -> Path:
    """Write a new 32-byte random key to ``path`` with owner-only permissions.

    Refuses to overwrite an existing key: losing a key makes last year's pseudonyms
    unlinkable to this year's. Refuses a path inside the share folder: with the key, anyone
    holding an id can find the child's pseudonym.
    """
    path = check_not_shared(Path(path))
    if path.parent and not path.parent.is_dir():
        raise KeyFileError(f"{path}: the folder {path.parent} does not exist")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: a key file already exists; it is not overwritten") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create the key file ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # whatever the umask
            fh.write(secrets.token_bytes(KEY_BYTES))
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyFileError(f"{path}: cannot write the key file ({exc.strerror})") from None
    return path


def read_key(path: Path) -> bytes:
    """The key in ``path``, after checking it is private and strong enough.

    Every refusal names the file and the reason, never a byte of what it holds.
    """
    path = Path(path)
    if not path.is_file():
        raise KeyFileError(f"{path}: no such key file (make one with `cscmining keygen`)")
    info = path.stat()
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: the key file can be read by others; run `chmod 600 {path}`")
    if info.st_size > MAX_KEY_FILE:
        raise KeyFileError(f"{path}: this is not a key file (larger than {MAX_KEY_FILE} bytes); "
                           "make one with `cscmining keygen`")
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file ({exc.strerror})") from None
    try:
        return check_key(key)
    except KeyFileError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def check_key(key: bytes) -> bytes:
    """``key`` if it is long and random enough to be a pseudonymisation key."""
    if len(key) < KEY_BYTES:
        raise KeyFileError(f"the key is shorter than {KEY_BYTES} bytes; "
                           "make one with `cscmining keygen`")
    if _weak(key):
        raise KeyFileError("the key is not random; make one with `cscmining keygen`")
    return key


def _weak(key: bytes) -> bool:
    """Keys a person typed or a test wrote: few distinct bytes, or bytes in a steady run.

    32 random bytes have about 30 distinct values; fewer than 16 happens by chance with a
    probability far below 1e-20.
    """
    if len(set(key)) < 16:
        return True
    steps = {(b - a) % 256 for a, b in itertools.pairwise(key)}
    return len(steps) <= 2


def fingerprint(key: bytes) -> str:
    """A short public name for a key, so logs made with different keys are never mixed."""
    return hmac.new(key, b"fingerprint", hashlib.sha256).hexdigest()[:8]


def check_la(la: str) -> str:
    if not _LA.fullmatch(la):
        raise UsageError("--la: a local authority code is letters, digits, - or _ "
                         "(at most 32), e.g. 909")
    return la


def pseudonym_map(ids: Iterable[object], key: bytes, la: str = "") -> dict[object, str]:
    """Each distinct id -> its keyed pseudonym; two ids with one pseudonym stop the run."""
    prefix = f"{DOMAIN}LA={check_la(la)}|".encode()
    distinct = list(dict.fromkeys(ids))
    lookup = {v: _pseudonym(key, prefix + str(v).encode("utf-8")) for v in distinct}
    if len(set(lookup.values())) != len(distinct):
        raise CscMiningError("PSEUDONYM_COLLISION: two different child ids gave the same "
                             "pseudonym; the run stops")
    return lookup


def _pseudonym(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def pseudonymise(ids: pd.Series, key: bytes, la: str = "") -> pd.Series:
    """Replace each distinct id by its keyed pseudonym (computed once per distinct id)."""
    lookup = pseudonym_map(ids.unique().tolist(), key, la)
    return ids.map(lookup)


def pseudonymise_columns(
    frames: list[pd.DataFrame], column: str, key: bytes, la: str = "",
) -> list[pd.DataFrame]:
    """``frames`` with ``column`` replaced by pseudonyms, one mapping for all of them."""
    ids = [v for f in frames if column in f.columns for v in f[column].dropna().unique().tolist()]
    lookup = pseudonym_map(ids, key, la)
    return [f.assign(**{column: f[column].map(lookup)}) if column in f.columns else f
            for f in frames]


class _Keyed(Protocol):
    pseudonymised: bool
    key_fingerprint: str | None


def check_same_key(logs: Iterable[_Keyed | Mapping[str, Any]]) -> None:
    """Refuse to combine event logs unless all hold raw ids or all were made with one key.

    ``logs`` are `EventLog`s or their metadata (``EventLog.metadata()``, as stored in each
    Parquet file). Pseudonyms from different keys describe different children even when they
    look alike; raw ids and pseudonyms never match at all.
    """
    kinds = {_kind(log) for log in logs}
    if len(kinds) <= 1:
        return
    shown = ", ".join(sorted(f"key {fp}" if p else "not pseudonymised" for p, fp in kinds))
    raise KeyFileError(f"KEY_MISMATCH: these event logs were not pseudonymised with one key "
                       f"({shown}); they cannot be combined")


def _kind(log: _Keyed | Mapping[str, Any]) -> tuple[bool, str | None]:
    if isinstance(log, Mapping):
        pseudonymised, fp = bool(log.get("pseudonymised", False)), log.get("key_fingerprint")
    else:
        pseudonymised, fp = log.pseudonymised, log.key_fingerprint
    return pseudonymised, fp if pseudonymised else None
