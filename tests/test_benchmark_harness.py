"""The benchmark harness (``benchmarks/``) on a tiny log: its generator writes a log cscmining
reads as its own, and its two references (DuckDB SQL, the plain pm4py pipeline) agree with
cscmining's library results. The benchmark itself is never run by the test suite."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

duckdb = pytest.importorskip(
    "duckdb", reason="duckdb is only in the bench extra (pip install -e '.[bench]')"
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import references  # noqa: E402

from cscmining.discover import process_map  # noqa: E402
from cscmining.eventlog import read_event_log, sort_events  # noqa: E402
from cscmining.timescales import stuck  # noqa: E402
from cscmining.variants import variants  # noqa: E402


def _json(payload: dict) -> dict:
    """What the CLI's ``--json`` prints, read back."""
    return json.loads(json.dumps(payload))


def test_generated_log_and_references_agree_with_cscmining(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    made = generate.event_log(path, events=2_000, seed=7, chunk_children=150)
    log = read_event_log(path)

    # the file is an event log as `ingest` writes it: counted, sorted, in several chunks
    assert (log.events, log.cases, log.same_day_ties) == \
        (made["events"], made["cases"], made["same_day_ties"])
    assert 1_500 < log.events < 2_500
    assert log.frame.equals(sort_events(log.frame))
    assert log.frame["case:concept:name"].is_monotonic_increasing
    assert set(log.frame["concept:name"]) <= set(log.vocabulary.order)
    assert generate.event_log(tmp_path / "again.parquet", events=2_000, seed=7,
                              chunk_children=150) == made

    ours_map = _json(process_map(log).to_dict())
    ours_variants = _json(variants(log).to_dict())
    ours_stuck = _json(stuck(log).to_dict())
    assert ours_stuck["stuck"], "the tiny log should have stuck children to compare"

    assert references.compare_map(ours_map, references.duckdb_map(path, threads=1)) == []
    assert references.compare_variants(
        ours_variants, references.duckdb_variants(path, threads=1)) == []
    assert references.compare_stuck(ours_stuck, references.duckdb_stuck(path, threads=1)) == []
    assert references.compare_pm4py(ours_map, ours_variants,
                                    references.pm4py_pipeline(path)) == []
