"""Size limits (T-STR-10, T-PERF-02) and the mojibake warning (T-ENC-05) of `cscmining.sources`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cscmining.sources import (
    DEFAULT_MAX_FILE_SIZE,
    MAX_FILE_SIZE_ENV,
    MAX_ROWS_ENV,
    Limits,
)

from reading_support import EP, L3, build_xlsx, events, file_error, ingest, run_cli, write_csv


def _episodes(path: Path, children: int) -> Path:
    return write_csv(path, [EP, *(f"SECRET{i},01/04/2023,S,V2,N1,U4,PR1,,,,,," for i in range(children))])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    path = _episodes(tmp_path / "e.csv", 3)
    size = path.stat().st_size
    monkeypatch.setenv(MAX_FILE_SIZE_ENV, str(size - 1))
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")
    code, message = file_error(path)
    assert code == "TOO_LARGE" and read == []
    assert message == (f"{path}: TOO_LARGE: {size:,} bytes, over the limit of {size - 1:,} bytes "
                       f"(set {MAX_FILE_SIZE_ENV} to raise it)")
    monkeypatch.undo()
    monkeypatch.setenv(MAX_FILE_SIZE_ENV, str(size))  # at the limit: read
    assert len(events(ingest(path)[0])) == 3


def test_a_table_over_the_row_limit_is_refused_and_named(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(MAX_ROWS_ENV, "2")
    big = _episodes(tmp_path / "big.csv", 3)
    code, message = file_error(big)
    assert code == "TOO_LARGE" and "table episodes has 3 rows, over the limit of 2" in message
    assert "SECRET" not in message
    book = build_xlsx(tmp_path / "l3.xlsx", {"L3": [L3.split(","), *[[f"C{i}", "F", "02/02/2024", "", ""]
                                                                      for i in range(3)]]})
    code, message = file_error(book)
    assert code == "TOO_LARGE" and "sheet 'L3' has 3 rows, over the limit of 2" in message
    (tmp_path / "ok").mkdir()
    small = _episodes(tmp_path / "ok" / "small.csv", 2)  # at the limit, and --keep-going
    log, read = ingest(big, small, keep_going=True)
    assert len(events(log)) == 2 and [e.code for e in read.errors] == ["TOO_LARGE"]


def test_the_cli_says_it_in_one_line_and_a_bad_setting_is_a_usage_error(tmp_path: Path, monkeypatch) -> None:
    path = _episodes(tmp_path / "e.csv", 3)
    monkeypatch.setenv(MAX_ROWS_ENV, "1")
    code, _, err = run_cli("-q", "ingest", path, "-o", tmp_path / "log.parquet")
    assert code == 2 and "TOO_LARGE" in err and "Traceback" not in err
    assert not (tmp_path / "log.parquet").exists()
    for bad in ("lots", "0", "-5", "1.5G"):
        monkeypatch.setenv(MAX_FILE_SIZE_ENV, bad)
        code, _, err = run_cli("-q", "ingest", path, "-o", tmp_path / "log.parquet")
        assert code == 2 and f"{MAX_FILE_SIZE_ENV} must be a positive whole number" in err


def test_limits_are_read_with_units(monkeypatch) -> None:
    monkeypatch.setenv(MAX_FILE_SIZE_ENV, "16G")
    monkeypatch.setenv(MAX_ROWS_ENV, "120M")
    assert Limits.from_environment() == Limits(16 * 1024**3, 120_000_000)
    monkeypatch.delenv(MAX_FILE_SIZE_ENV)
    monkeypatch.setenv(MAX_ROWS_ENV, "2_500k")
    assert Limits.from_environment() == Limits(DEFAULT_MAX_FILE_SIZE, 2_500_000)


def test_the_default_lets_a_national_sized_file_through(tmp_path: Path) -> None:
    """A sparse file (no disk used) of 3 GB, bigger than a decade of national episodes, passes
    the default; one of 9 GiB does not."""
    limits = Limits()
    national = tmp_path / "national.csv"
    with national.open("wb") as fh:
        fh.truncate(3 * 10**9)
    limits.check_file(national)
    absurd = tmp_path / "absurd.csv"
    with absurd.open("wb") as fh:
        fh.truncate(9 * 1024**3)
    with pytest.raises(Exception, match="TOO_LARGE"):
        limits.check_file(absurd)


# --- mojibake ------------------------------------------------------------------------------


def test_mojibake_is_counted_per_column_and_never_quoted(tmp_path: Path) -> None:
    rows = ["M1,F,02/02/2024,g) Police,Team Â£ Oâ€™Brien", "M2,F,02/02/2024,CafÃ© referral,North",
            "M3,F,02/02/2024,g) Police,Team Â£ Oâ€™Brien", "M4,F,02/02/2024,g) Police,\u00c3\u00a0 l'Ouest"]  # "à": C3 A0
    path = write_csv(tmp_path / "l3.csv", [L3, *rows])
    _, read = ingest(path)
    (note,) = [n for n in read.notes if "MOJIBAKE_SUSPECTED" in n]
    assert note.startswith(f"{path}: MOJIBAKE_SUSPECTED:")
    assert "in column(s) Referral Source (1 cell(s)), Allocated Team (3 cell(s));" in note
    assert not any(word in note for word in ("Brien", "Caf", "Ouest"))
    # a workbook's cells are of mixed types: a repeated cell counts once per row, numbers
    # and dates next to it are not text
    book = build_xlsx(tmp_path / "l3.xlsx", {"Referrals": [
        L3.split(","), ["X1", "F", "02/02/2024", "", "Ã©quipe"], ["X2", "F", dt.datetime(2024, 2, 2), "", 7],
        ["X3", "F", "02/02/2024", "", "Ã©quipe"]]})
    (note,) = [n for n in ingest(book)[1].notes if "MOJIBAKE_SUSPECTED" in n]
    assert note.startswith(f"{book} [Referrals]: MOJIBAKE_SUSPECTED:") and "Allocated Team (2 cell(s))" in note


def test_real_accents_and_pound_signs_are_not_mojibake(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l3.csv", [L3, "W1,F,02/02/2024,g) Police,Équipe £5 O’Brien café Â"])
    assert not any("MOJIBAKE" in n for n in ingest(path)[1].notes)
