"""T-SEC-10: internal artefacts are refused inside the configured share folder; shareable
ones are written there as anywhere else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cscmining.errors import ShareFolderError
from cscmining.eventlog import write_event_log
from cscmining.outputs import SHARE_DIR_ENV, write_text

from reading_support import FIXTURES, ingest, run_cli

CIN = FIXTURES / "cin_small.xml"


@pytest.fixture()
def share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    elsewhere = tmp_path / "also_shared"
    monkeypatch.setenv(SHARE_DIR_ENV, f"{elsewhere}{os.pathsep}{folder}")
    return folder


@pytest.fixture()
def log(tmp_path: Path, share: Path) -> Path:
    path = tmp_path / "own" / "log.parquet"
    assert run_cli("-q", "ingest", CIN, "-o", path)[0] == 0  # outside the share folder: fine
    return path


def _refused(code: int, out: str, err: str, path: Path) -> None:
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "INTERNAL_IN_SHARE_DIR" in err and str(path) in err
    assert "Traceback" not in err
    assert not path.exists()


def test_an_event_log_is_refused_in_the_share_folder(share: Path) -> None:
    target = share / "sub" / "log.parquet"
    _refused(*run_cli("-q", "ingest", CIN, "-o", target), target)
    assert list(share.rglob("*")) == []  # nothing made, not even the sub-folder or a temp file


def test_any_internal_output_is_refused(share: Path, log: Path, tmp_path: Path) -> None:
    for args, target in (
        (["map", log, "--disclosure", "none", "-o"], share / "map.svg"),
        (["map", log, "-o"], share / "default.svg"),  # the map's default is no control
        (["report", log, "--disclosure", "none", "-o"], share / "report.html"),
        (["stuck", log, "--csv"], share / "stuck.csv"),  # case ids
        (["keygen"], share / "la.key"),
    ):
        _refused(*run_cli("-q", *args, target), target)
    assert list(share.iterdir()) == []


def test_a_link_into_the_share_folder_does_not_get_past(share: Path, tmp_path: Path) -> None:
    link = tmp_path / "innocent"
    link.symlink_to(share, target_is_directory=True)
    target = link / "log.parquet"
    _refused(*run_cli("-q", "ingest", CIN, "-o", target), target)
    relative = Path(os.path.relpath(share / "log.csv"))  # from the working folder, with ".."
    with pytest.raises(ShareFolderError, match="INTERNAL_IN_SHARE_DIR"):
        write_event_log(ingest(CIN)[0], relative)
    assert list(share.iterdir()) == []


def test_shareable_outputs_are_written_in_the_share_folder(share: Path, log: Path) -> None:
    for args, target in (
        (["map", log, "--disclosure", "standard", "-o"], share / "map.svg"),
        (["report", log, "-o"], share / "report.html"),  # standard by default
    ):
        code, _, err = run_cli("-q", *args, target)
        assert code == 0, err
        assert target.stat().st_size > 0
    assert write_text(share / "notes.txt", "shareable\n").read_text() == "shareable\n"
    assert sorted(p.name for p in share.iterdir()) == ["map.svg", "notes.txt", "report.html"]


def test_without_a_share_folder_nothing_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SHARE_DIR_ENV, raising=False)
    target = tmp_path / "share" / "log.parquet"
    assert run_cli("-q", "ingest", CIN, "-o", target)[0] == 0
    assert target.exists()
