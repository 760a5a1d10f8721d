"""Keyed pseudonyms and key handling: research/reliability.md §3.8 (T-PSE-01 … 08), T-ID-05/07.

`cscmining keygen` makes the key; ``ingest --pseudonymise --key-file F [--la CODE]`` replaces
every child id by HMAC-SHA256(key, domain | LA | id) before the log is sorted and written.
The key never shows in any output, message or file; logs made with different keys are never
combined.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import traceback
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

import cscmining.cli as cli_module
from cscmining import pseudonym
from cscmining.columns import CASE
from cscmining.errors import CscMiningError, KeyFileError, UsageError
from cscmining.eventlog import read_event_log, sort_events
from cscmining.ingest import build_event_log
from cscmining.pseudonym import (
    KEY_BYTES,
    check_same_key,
    fingerprint,
    keygen,
    pseudonym_map,
    pseudonymise,
    read_key,
)

from reading_support import EP, FIXTURES, write_csv

#: six-digit ids (the shape most case systems use) and ids with leading zeros
IDS = ["123456", "004512", "987001", "000777"]


def run(*args: object) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``cscmining ARGS`` in this process; with ``--debug`` an
    error's traceback (what the user would see) counts as stderr."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        shown = ""
        try:
            cli_module.main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # re-raised under --debug
            code, shown = 2, traceback.format_exc()
        return code, out.getvalue().decode(), err.getvalue().decode() + shown


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    (tmp_path / "keys").mkdir()
    return keygen(tmp_path / "keys" / "la.key")


@pytest.fixture
def returns(tmp_path: Path) -> Path:
    """A 903 episodes file of four children with six-digit ids."""
    (tmp_path / "in").mkdir()
    rows = [f"{child},0{i + 1}/04/2023,S,V2,N1,U4,PR1,0{i + 1}/06/2023,E13,,,," for i, child in enumerate(IDS)]
    return write_csv(tmp_path / "in" / "episodes.csv", [EP, *rows])


def key_forms(key: bytes) -> list[bytes]:
    """Every way a key could leak into text or a file."""
    return [key, key.hex().encode(), key.hex().upper().encode(), base64.b64encode(key),
            base64.urlsafe_b64encode(key), base64.b64encode(key).rstrip(b"=")]


def assert_no_key(key: bytes, *blobs: bytes | str) -> None:
    for blob in blobs:
        data = blob.encode() if isinstance(blob, str) else blob
        for form in key_forms(key):
            assert form not in data


# --- keygen --------------------------------------------------------------------------------


def test_keygen_writes_32_private_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "la.key"
    old = os.umask(0)  # even a permissive umask gives an owner-only key
    try:
        code, out, err = run("keygen", path)
    finally:
        os.umask(old)
    assert code == 0, err
    key = path.read_bytes()
    assert len(key) == KEY_BYTES and read_key(path) == key
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"fingerprint {fingerprint(key)}" in err
    assert_no_key(key, out, err)
    other = tmp_path / "other.key"
    assert run("keygen", other)[0] == 0
    assert other.read_bytes() != key


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    path = tmp_path / "la.key"
    assert run("keygen", path)[0] == 0
    before = path.read_bytes()
    code, _, err = run("keygen", path)
    assert code == 2 and "a key file already exists; it is not overwritten" in err
    assert path.read_bytes() == before


def test_keygen_into_a_missing_folder(tmp_path: Path) -> None:
    code, _, err = run("keygen", tmp_path / "nope" / "la.key")
    assert code == 2 and "does not exist" in err and "Traceback" not in err


# --- T-PSE-01 … 04: refusing keys, before any data is read -------------------------------


@pytest.fixture
def no_reading(monkeypatch):
    """Fail the test if any input file is opened as data."""
    import cscmining.ingest as ingest_module

    def read_files(*_a, **_k):
        raise AssertionError("input data was read before the key was checked")

    monkeypatch.setattr(ingest_module, "read_files", read_files)


def test_pse_01_no_key_file(tmp_path: Path, returns: Path, no_reading) -> None:
    out = tmp_path / "log.parquet"
    code, _, err = run("ingest", returns, "-o", out, "--pseudonymise")
    assert code == 2 and "--pseudonymise needs --key-file" in err
    code, _, err = run("ingest", returns, "-o", out, "--pseudonymise", "--key-file", tmp_path / "none.key")
    assert code == 2 and "no such key file (make one with `cscmining keygen`)" in err
    assert not out.exists()


def _write_key(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (os.urandom(16), "shorter than 32 bytes"),
        (bytes(32), "not random"),
        (bytes(range(32)), "not random"),                       # the "example key" a test writes
        (b"ZQX9931-" * 4, "not random"),                        # a typed pass phrase
        (bytes(range(0, 256, 8)), "not random"),
        (os.urandom(2048), "not a key file"),                   # some other file given by mistake
    ],
)
def test_pse_02_weak_keys_are_refused(tmp_path: Path, returns: Path, no_reading, data: bytes, message: str) -> None:
    key = _write_key(tmp_path / "weak.key", data)
    code, _out, err = run("ingest", returns, "-o", tmp_path / "log.parquet", "--pseudonymise", "--key-file", key)
    assert code == 2 and message in err and "Traceback" not in err
    assert "ZQX9931" not in err  # no byte of the file is echoed
    if len(data) <= pseudonym.MAX_KEY_FILE:  # the library refuses the key too, before reading
        with pytest.raises(KeyFileError):
            build_event_log([returns], key=data)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_pse_03_a_key_others_can_read_is_refused(tmp_path: Path, returns: Path, no_reading, mode: int) -> None:
    key = _write_key(tmp_path / "la.key", os.urandom(32), mode)
    code, _, err = run("ingest", returns, "-o", tmp_path / "log.parquet", "--pseudonymise", "--key-file", key)
    assert code == 2 and "can be read by others; run `chmod 600" in err


def test_pse_04_no_option_takes_key_material() -> None:
    """Every option whose name mentions a key is a path to a file, never the key itself."""
    cli_module._register()
    for name, command in cli_module.cli.commands.items():
        for param in command.params:
            if "key" in param.name and param.name != "keep_going":
                assert param.name in ("key_file", "keyfile"), (name, param.name)
                assert isinstance(param.type, click.Path), (name, param.name)
    code, _, err = run("ingest", "x.csv", "-o", "log.parquet", "--pseudonymise", "--key", "00" * 32)
    assert code == 2 and "No such option" in err


def test_key_file_and_la_need_pseudonymise(tmp_path: Path, returns: Path, key_file: Path) -> None:
    for extra in (["--key-file", key_file], ["--la", "909"]):
        code, _, err = run("ingest", returns, "-o", tmp_path / "log.parquet", *extra)
        assert code == 2 and "are used with --pseudonymise" in err


def test_key_file_from_the_environment(tmp_path: Path, returns: Path, key_file: Path, monkeypatch) -> None:
    monkeypatch.setenv("CSCMINING_KEY_FILE", str(key_file))
    out = tmp_path / "log.parquet"
    assert run("ingest", returns, "-o", out, "--pseudonymise")[0] == 0
    assert read_event_log(out).key_fingerprint == fingerprint(key_file.read_bytes())
    # set in the environment but not asked for: ids stay as they are
    plain = tmp_path / "plain.parquet"
    assert run("ingest", returns, "-o", plain)[0] == 0
    assert not read_event_log(plain).pseudonymised


def test_bad_la_code(tmp_path: Path, returns: Path, key_file: Path) -> None:
    code, _, err = run("ingest", returns, "-o", tmp_path / "l.parquet", "--pseudonymise",
                       "--key-file", key_file, "--la", "9 0/9")
    assert code == 2 and "local authority code" in err


# --- the pseudonymised log ---------------------------------------------------------------


def _ingest_cli(inputs: list[Path], out: Path, key_file: Path | None, *extra: object) -> dict:
    args = ["ingest", *inputs, "-o", out, "--json", *extra]
    if key_file is not None:
        args += ["--pseudonymise", "--key-file", key_file]
    code, stdout, stderr = run(*args)
    assert code == 0, stderr
    return {"json": json.loads(stdout), "stdout": stdout, "stderr": stderr}


def test_pseudonymised_log_keeps_every_journey_and_no_id(tmp_path: Path, key_file: Path) -> None:
    inputs = [FIXTURES / "ssda903_csv", FIXTURES / "cin_small.xml"]
    plain, _ = build_event_log(inputs)
    out = tmp_path / "log.parquet"
    run_ = _ingest_cli(inputs, out, key_file, "--la", "909")
    assert run_["json"]["pseudonymised"] is True
    assert run_["json"]["key_fingerprint"] == fingerprint(key_file.read_bytes())
    log = read_event_log(out)
    assert log.pseudonymised and log.key_fingerprint == fingerprint(key_file.read_bytes())
    frame = log.frame
    # one pseudonym per child, 32 hex characters, every event and attribute kept
    assert (log.events, log.cases) == (plain.events, plain.cases)
    assert frame[CASE].str.fullmatch(r"[0-9a-f]{32}").all()
    mapping = pseudonym_map(plain.frame[CASE].unique().tolist(), key_file.read_bytes(), "909")
    expected = sort_events(plain.frame.assign(**{CASE: plain.frame[CASE].map(mapping)}))
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    # the log is sorted by its pseudonyms, as every analysis expects
    pd.testing.assert_frame_equal(frame, sort_events(frame))
    # no raw id anywhere in the file (cells or metadata)
    data = out.read_bytes()
    ids = set(plain.frame[CASE])
    for child in ids:
        assert child not in set(frame.astype(str).to_numpy().ravel())
    meta = json.dumps(log.metadata())
    assert not any(f'"{child}"' in meta for child in ids)
    assert_no_key(key_file.read_bytes(), data, run_["stdout"], run_["stderr"])


def test_pse_05_same_key_same_pseudonyms_other_key_other_ones(tmp_path: Path, returns: Path) -> None:
    (tmp_path / "k").mkdir()
    key_a, key_b = keygen(tmp_path / "k" / "a.key"), keygen(tmp_path / "k" / "b.key")
    logs = {}
    for name, key in (("a1", key_a), ("a2", key_a), ("b", key_b)):
        _ingest_cli([returns], tmp_path / f"{name}.parquet", key)
        logs[name] = read_event_log(tmp_path / f"{name}.parquet")
    cases = {name: sorted(log.frame[CASE].unique()) for name, log in logs.items()}
    assert cases["a1"] == cases["a2"]
    assert not set(cases["a1"]) & set(cases["b"])
    assert logs["a1"].key_fingerprint == logs["a2"].key_fingerprint != logs["b"].key_fingerprint
    # combining logs: one key is fine; two keys, or pseudonyms with raw ids, are refused
    check_same_key([logs["a1"], logs["a2"]])
    with pytest.raises(KeyFileError, match="KEY_MISMATCH"):
        check_same_key([logs["a1"], logs["b"]])
    plain, _ = build_event_log([returns])
    check_same_key([plain, plain])
    with pytest.raises(KeyFileError, match=r"KEY_MISMATCH.*not pseudonymised"):
        check_same_key([plain, logs["a1"]])


def test_id_05_same_id_in_two_las_gets_unrelated_pseudonyms(returns: Path, key_file: Path) -> None:
    key = key_file.read_bytes()
    first, _ = build_event_log([returns], key=key, la="101")
    second, _ = build_event_log([returns], key=key, la="202")
    none, _ = build_event_log([returns], key=key)
    sets = [set(log.frame[CASE]) for log in (first, second, none)]
    assert all(len(s) == len(IDS) for s in sets)
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])


def test_id_07_ids_that_look_like_numbers_or_dates_stay_strings(tmp_path: Path, key_file: Path) -> None:
    """"001", "002" and ISO dates never turn into timestamps, pseudonymised or not."""
    text = (FIXTURES / "cin_small.xml").read_text()
    path = tmp_path / "cin.xml"
    path.write_text(text.replace(">C001<", ">001<").replace(">0042<", ">002<"))
    plain, _ = build_event_log([path])
    assert sorted(plain.frame[CASE].unique()) == ["001", "002"]
    log, _ = build_event_log([path], key=key_file.read_bytes())
    assert log.frame[CASE].map(type).eq(str).all()
    key = key_file.read_bytes()
    assert set(log.frame[CASE]) == set(pseudonym_map(["001", "002"], key).values())


def test_pse_06_unkeyed_hashes_of_every_six_digit_id_match_no_pseudonym(returns: Path, key_file: Path) -> None:
    """The attack that reverses a plain hash of a six-digit id in a second (E9) finds nothing."""
    log, _ = build_event_log([returns], key=key_file.read_bytes())
    pseudonyms = set(log.frame[CASE])
    found = {n for n in range(1_000_000)
             if hashlib.sha256(b"%06d" % n).hexdigest()[:pseudonym.PSEUDONYM_HEX] in pseudonyms}
    # nor does the message our HMAC signs, hashed without the key, for these ids
    unkeyed = {hashlib.sha256(f"{pseudonym.DOMAIN}LA=|{i}".encode()).hexdigest()[:32] for i in IDS}
    assert not unkeyed & pseudonyms
    assert not found
    # the same attack does reverse unkeyed hashes of these ids (the check can fail)
    plain = {hashlib.sha256(i.encode()).hexdigest()[:32] for i in IDS}
    assert all(hashlib.sha256(b"%06d" % int(i)).hexdigest()[:32] in plain for i in IDS)


def test_pse_07_the_key_is_in_no_output_message_or_error(tmp_path: Path, key_file: Path, returns: Path) -> None:
    key = key_file.read_bytes()
    blobs: list[bytes | str] = []
    for suffix in ("parquet", "csv", "xes"):
        result = _ingest_cli([returns], tmp_path / f"log.{suffix}", key_file)
        blobs += [(tmp_path / f"log.{suffix}").read_bytes(), result["stdout"], result["stderr"]]
    code, out, err = run("-q", "ingest", returns, "-o", tmp_path / "log.parquet",
                         "--pseudonymise", "--key-file", key_file)
    assert code == 2  # refused: the log exists
    blobs += [out, err]
    _code, out, err = run("--debug", "ingest", tmp_path / "missing", "-o", tmp_path / "x.parquet",
                         "--pseudonymise", "--key-file", key_file)
    blobs += [out, err]
    log = read_event_log(tmp_path / "log.parquet")
    blobs += [repr(log), json.dumps(log.metadata())]
    assert_no_key(key, *blobs)


def test_pse_08_a_pseudonym_collision_stops_the_run(returns: Path, key_file: Path, monkeypatch) -> None:
    monkeypatch.setattr(pseudonym, "PSEUDONYM_HEX", 1)  # 16 possible pseudonyms
    with pytest.raises(CscMiningError, match="PSEUDONYM_COLLISION"):
        pseudonymise(pd.Series([f"{i:06d}" for i in range(40)]), key_file.read_bytes())


def test_read_event_log_exposes_the_fingerprint_of_an_unpseudonymised_log(tmp_path: Path) -> None:
    out = tmp_path / "log.parquet"
    assert run("-q", "ingest", FIXTURES / "cin_small.xml", "-o", out)[0] == 0
    log = read_event_log(out)
    assert (log.pseudonymised, log.key_fingerprint) == (False, None)
    filtered = log.with_frame(log.frame.iloc[:3])
    assert (filtered.pseudonymised, filtered.key_fingerprint) == (False, None)


def test_a_filtered_pseudonymised_log_keeps_its_fingerprint(returns: Path, key_file: Path) -> None:
    log, _ = build_event_log([returns], key=key_file.read_bytes())
    part = log.with_frame(log.frame.iloc[:2])
    assert part.pseudonymised and part.key_fingerprint == log.key_fingerprint


def test_la_code_checked_by_the_library(returns: Path, key_file: Path) -> None:
    with pytest.raises(UsageError, match="local authority code"):
        build_event_log([returns], key=key_file.read_bytes(), la="../x")


def test_check_same_key_reads_stored_metadata(returns: Path, key_file: Path) -> None:
    log, _ = build_event_log([returns], key=key_file.read_bytes())
    check_same_key([log.metadata(), log])
    plain, _ = build_event_log([returns])
    with pytest.raises(KeyFileError, match="KEY_MISMATCH"):
        check_same_key([log.metadata(), plain.metadata()])


def test_an_event_log_is_never_an_input_so_logs_are_not_merged_by_ingest(tmp_path: Path, returns: Path,
                                                                        key_file: Path) -> None:
    """Re-ingesting: a log written earlier is not a return; given with returns it is refused."""
    log = tmp_path / "log.parquet"
    assert run("-q", "ingest", returns, "-o", log, "--pseudonymise", "--key-file", key_file)[0] == 0
    code, _, err = run("-q", "ingest", log, returns, "-o", tmp_path / "again.parquet")
    assert code == 2 and f"{log}:" in err and not (tmp_path / "again.parquet").exists()
    code, _, err = run("-q", "variants", log, returns, "--json")
    assert code == 2 and f"{log}:" in err


def _log_folder(tmp_path: Path, returns: Path, keys: dict[str, Path | None]) -> Path:
    folder = tmp_path / "logs"
    for la, key in keys.items():
        out = folder / f"la={la}" / "log.parquet"
        extra = ["--pseudonymise", "--key-file", key, "--la", la] if key else []
        assert run("-q", "ingest", returns, "-o", out, *extra)[0] == 0
    return folder


def test_a_folder_of_logs_made_with_one_key_is_read_as_one(tmp_path: Path, returns: Path, key_file: Path) -> None:
    folder = _log_folder(tmp_path, returns, {"101": key_file, "202": key_file})
    code, out, err = run("-q", "variants", folder, "--json")
    assert code == 0, err
    assert json.loads(out)["cases"] == 2 * len(IDS)  # the LA code keeps the same ids apart


@pytest.mark.parametrize("mixed", ["two keys", "raw and pseudonymised"])
def test_a_folder_of_logs_with_different_keys_is_refused(tmp_path: Path, returns: Path, key_file: Path,
                                                          mixed: str) -> None:
    other = keygen(tmp_path / "keys" / "other.key") if mixed == "two keys" else None
    folder = _log_folder(tmp_path, returns, {"101": key_file, "202": other})
    for engine in ("fast", "duckdb", "pm4py"):  # every way of reading a folder checks the keys
        code, out, err = run("-q", "variants", folder, "--json", "--engine", engine)
        assert (code, out) == (2, "") and "KEY_MISMATCH" in err and "Traceback" not in err
