"""Engines: every way of reading a log gives the same numbers, and pm4py's where it has them.

The same random logs (many same-day ties, loops, open journeys, attributes, a few timestamps
with a time of day) are analysed in memory (an `EventLog`), by the ``fast`` engine (pyarrow,
batch by batch, with tiny batches so cases straddle them), by the ``duckdb`` engine, and as a
folder partitioned ``la=…/year=…``: every map, variant list, stuck list and trend must be
identical, JSON text included. pm4py is the oracle for the directly-follows graph, its
performance DFG and the variants.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import cscmining.cli.analyse
import cscmining.cli.map  # noqa: F401
from cscmining import engines
from cscmining.cli import cli
from cscmining.columns import ACTIVITY, CASE, TIMESTAMP
from cscmining.discover import bottlenecks, pm4py_dfg, process_map
from cscmining.engines import jsontext, sources
from cscmining.engines.sources import ArrowSource, DuckDBSource, LogFiles
from cscmining.errors import AccountingError, UsageError
from cscmining.eventlog import from_records, is_event_log, read_event_log, write_event_log
from cscmining.timescales import stuck, timescale_trend
from cscmining.variants import variants

duckdb = pytest.importorskip("duckdb")

STEPS = ["Contact", "Referral", "Assessment start", "Assessment authorised", "S47 enquiry",
         "ICPC", "CP plan start", "CP review", "CP plan end", "CIN plan start", "CIN plan end",
         "Looked after start", "CLA review", "Placement change", "Left care: returned home",
         "Left care: adopted", "Case closed"]
TEAMS = ["North", "South", " east "]


def random_log(seed: int, children: int = 300, times: bool = False):
    rng = random.Random(seed)
    records, attributes = [], []
    for i in range(children):
        # ids with a quote, an accent or a space now and then: JSON must escape them alike
        child = f"c{i:04d}" + ("\"q" if i % 97 == 5 else "é" if i % 89 == 7 else "")
        day = pd.Timestamp("2022-01-01") + pd.Timedelta(days=rng.randrange(700))
        for _ in range(rng.randint(1, 12)):
            stamp = day.date().isoformat()
            if times and rng.random() < 0.2:
                stamp = (day + pd.Timedelta(minutes=rng.randrange(1440))).isoformat()
            step = rng.choice(STEPS[:4] * 3 + STEPS)
            records.append((child, step, stamp))
            attributes.append({
                "team": rng.choice(TEAMS),
                "icpc_not_required": rng.choice(["true", "false", None]) if step == "S47 enquiry"
                else None,
            })
            day += pd.Timedelta(days=rng.choice([0, 0, 0, 1, 2, 7, 30, 90]))
    return from_records(records, as_at="2024-06-30", attributes=attributes)


def partition(log_path: Path, folder: Path) -> Path:
    """The log split into ``la=…/year=…`` files (each one a cscmining log)."""
    table = pq.read_table(log_path)
    case = table.column(CASE).to_numpy()
    la = np.array(["E06000001", "E09000033"])[[hash(c) % 2 for c in case]]
    year = pd.DatetimeIndex(table.column(TIMESTAMP).to_pandas()).year.to_numpy()
    for a in np.unique(la):
        for y in np.unique(year):
            keep = (la == a) & (year == y)
            if keep.any():
                out = folder / f"la={a}" / f"year={y}"
                out.mkdir(parents=True)
                pq.write_table(table.filter(pa.array(keep)), out / "part-0.parquet")
    return folder


@pytest.fixture(scope="module", params=[1, 2, 3])
def logs(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"engines{request.param}")
    log = random_log(request.param, times=request.param == 3)
    path = write_event_log(log, tmp / "log.parquet")
    return log, path, partition(path, tmp / "parts")


@pytest.fixture
def tiny_batches(monkeypatch):
    """Batches of 40 rows: one case in six or so straddles two of them, and some several."""
    monkeypatch.setattr(sources, "BATCH_ROWS", 40)


def opened(path: Path, engine: str, as_at: date | None = None) -> engines.LogSource:
    return engines.open_log([path], engine=engine, as_at=as_at)


def every_result(log) -> dict:
    """Every analysis of a log (or source) as the JSON text the CLI prints."""
    where = [("team", "north"), ("team", "East")]
    out = {
        "map": process_map(log).to_dict(),
        "map summary": process_map(log, level="summary", activities=60, paths=50).to_dict(),
        "map focused": process_map(log, start=date(2023, 1, 1), end=date(2023, 6, 30),
                                   where=where).to_dict(),
        "bottlenecks": bottlenecks(log, level="summary").to_dict(),
        "variants": variants(log).to_json(),
        "variants collapsed": variants(log, collapse=True).to_json(),
        "variants summary": variants(log, level="summary", collapse=True, top=20).to_json(),
        "variants focused": variants(log, where=where, start=date(2023, 3, 1)).to_json(),
        "stuck": stuck(log).to_json(),
        "stuck earlier": stuck(log, as_at=date(2023, 5, 31)).to_json(),
        "stuck focused": stuck(log, rule=["icpc", "assessment"], where=where).to_json(),
        "trend": timescale_trend(log, by="quarter").to_dict(),
    }
    return json.loads(json.dumps(out))


def test_every_engine_gives_the_same_numbers(logs, tiny_batches):
    log, path, folder = logs
    expected = every_result(log)
    assert expected["stuck"] != '{"as_at": "2024-06-30", "stuck": [], ' \
        '"children": {}, "total_children": 0}'
    for source in (opened(path, "fast"), opened(path, "duckdb"), opened(folder, "fast"),
                   opened(folder, "duckdb"), opened(path, "pm4py"), opened(folder, "pm4py")):
        got = every_result(source)
        for key in expected:
            assert got[key] == expected[key], (source.engine, key)


def test_json_text_is_json_dumps_of_the_dicts(logs):
    log = logs[0]
    for result in (variants(log), variants(log, collapse=True), variants(log, top=3),
                   stuck(log), stuck(log, rule="icpc")):
        assert result.to_json() == json.dumps(result.to_dict())
    empty = from_records([], as_at="2024-01-01")
    assert variants(empty).to_json() == json.dumps(variants(empty).to_dict())
    assert stuck(empty).to_json() == json.dumps(stuck(empty).to_dict())


def test_map_agrees_with_pm4py_on_every_engine(logs):
    log, path, folder = logs
    frame = log.frame
    dfg, performance, start, end = pm4py_dfg(frame)
    for source in (opened(path, "fast"), opened(folder, "duckdb")):
        result = process_map(source)
        assert {e.key: e.count for e in result.edges} == {k: int(v) for k, v in dfg.items()}
        assert result.start == {k: int(v) for k, v in start.items()}
        assert result.end == {k: int(v) for k, v in end.items()}
        for edge in result.edges:
            assert edge.median_days == pytest.approx(performance[edge.key]["median"] / 86_400,
                                                     abs=1e-9)
            assert edge.child_days == pytest.approx(performance[edge.key]["sum"] / 86_400,
                                                    abs=1e-6)
        assert sum(e.count for e in result.edges) == log.events - log.cases


def test_variants_agree_with_pm4py_on_every_engine(logs):
    log, path, folder = logs
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]
    import pm4py

    found = pm4py.get_variants(log.frame[[CASE, ACTIVITY, TIMESTAMP]], activity_key=ACTIVITY,
                               case_id_key=CASE, timestamp_key=TIMESTAMP)
    theirs = {tuple(k): (v if isinstance(v, int) else len(v)) for k, v in found.items()}
    for source in (opened(path, "fast"), opened(folder, "duckdb")):
        result = variants(source)
        assert {v.activities: v.count for v in result.variants} == theirs
        assert result.cases == log.cases


def test_journey_days_are_numpy_percentiles(logs):
    log, path, _ = logs
    frame = log.frame
    grouped = frame.groupby(CASE, sort=False)
    paths = grouped[ACTIVITY].agg(tuple)
    span = (grouped[TIMESTAMP].max() - grouped[TIMESTAMP].min()) / pd.Timedelta(days=1)
    for v in variants(opened(path, "fast")).variants[:40]:
        days = span[paths == v.activities].to_numpy()
        assert (v.median_days, v.p90_days) == (np.percentile(days, 50), np.percentile(days, 90))


def test_pm4py_engine_checks_and_stops_on_a_disagreement(logs, monkeypatch):
    _, path, _ = logs
    source = opened(path, "pm4py")
    process_map(source, check=True)
    variants(source, check=True)
    import cscmining.discover as discover

    real = discover.pm4py_dfg

    def wrong(frame):
        dfg, performance, start, end = real(frame)
        key = next(iter(dfg))
        dfg[key] += 1
        return dfg, performance, start, end

    monkeypatch.setattr(discover, "pm4py_dfg", wrong)
    with pytest.raises(AccountingError, match="pm4py and cscmining disagree"):
        process_map(source, check=True)
    with pytest.raises(UsageError, match="in memory"):
        process_map(opened(path, "fast"), check=True)


def test_a_folder_reads_as_the_log_it_was_split_from(logs):
    log, path, folder = logs
    assert is_event_log(folder) and is_event_log(path)
    back = read_event_log(folder)
    assert back.as_at == log.as_at and back.events == log.events
    columns = [c for c in log.frame.columns if c != "source:file"]
    pd.testing.assert_frame_equal(back.frame[columns].reset_index(drop=True),
                                  read_event_log(path).frame[columns], check_dtype=False)
    assert set(back.frame["la"]) == {"E06000001", "E09000033"}
    # the partition columns are attributes like any other
    north = process_map(opened(folder, "duckdb"), where=[("la", "E06000001")])
    assert north.filters == ("la = E06000001",)
    assert north.to_dict() == process_map(back, where=[("la", "E06000001")]).to_dict()


def test_a_folder_with_other_files_is_not_a_log(logs, tmp_path):
    _, path, _ = logs
    (tmp_path / "returns").mkdir()
    (tmp_path / "returns" / "episodes.csv").write_text("CHILD,DECOM\n", encoding="utf-8")
    (tmp_path / "returns" / "log.parquet").write_bytes(path.read_bytes())
    assert not is_event_log(tmp_path / "returns")
    assert not is_event_log(tmp_path / "nowhere")
    (tmp_path / "logs" / "_tmp").mkdir(parents=True)
    (tmp_path / "logs" / "_tmp" / "junk.txt").write_text("x", encoding="utf-8")
    (tmp_path / "logs" / "a.parquet").write_bytes(path.read_bytes())
    assert is_event_log(tmp_path / "logs")  # hidden and _underscore files are ignored


def test_unknown_activities_are_named(tmp_path):
    log = random_log(4, children=20)
    table = pa.Table.from_pandas(log.frame, preserve_index=False)
    names = table.column(ACTIVITY).to_pylist()
    names[3] = "Teleported"
    table = table.set_column(1, ACTIVITY, pa.array(names, type=pa.large_string()))
    meta = {b"cscmining": json.dumps(log.metadata()).encode()}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "odd.parquet")
    for engine in ("fast", "duckdb"):
        with pytest.raises(UsageError, match="not in the stage vocabulary: Teleported"):
            process_map(opened(tmp_path / "odd.parquet", engine))


def test_engine_choice(logs):
    _, path, folder = logs
    assert isinstance(opened(path, "auto"), ArrowSource)  # one file streams in any memory
    assert isinstance(opened(folder, "auto"), DuckDBSource)  # a folder is sorted out of core
    assert isinstance(opened(folder, "fast"), ArrowSource)
    assert opened(path, "pm4py").engine == "pm4py"
    with pytest.raises(UsageError, match="--engine"):
        engines.open_log([path], engine="spark")


def test_duckdb_reads_only_the_log(logs, tmp_path):
    _, path, _folder = logs
    other = tmp_path / "other.parquet"
    other.write_bytes(path.read_bytes())
    with sources.duckdb_connection(LogFiles.find(path)) as con:
        assert con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0] > 0
        for sql in (f"SELECT count(*) FROM read_parquet('{other}')",
                    "SELECT * FROM read_parquet('https://example.org/x.parquet')",
                    "INSTALL httpfs", "SET enable_external_access = true"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions', "
            "'allow_community_extensions', 'enable_external_access', 'lock_configuration')"
        ).fetchall())
    assert set(settings.values()) == {"false", "true"}
    assert settings["lock_configuration"] == "true"
    assert settings["enable_external_access"] == "false"


def test_an_earlier_as_at_is_pushed_into_the_scan(logs):
    log, path, _ = logs
    earlier = date(2023, 2, 28)
    expected = process_map(log.as_of(earlier)).to_dict()
    for engine in ("fast", "duckdb"):
        source = opened(path, engine, as_at=earlier)
        assert source.as_at == earlier
        assert process_map(source).to_dict() == expected


def test_empty_focus_says_so(logs):
    _, path, _ = logs
    with pytest.raises(UsageError, match="no child's journey is left"):
        process_map(opened(path, "fast"), where=[("team", "Nowhere")])
    assert variants(opened(path, "duckdb"), where=[("team", "Nowhere")]).cases == 0


@pytest.mark.parametrize("values", [
    [0.0, -0.0, 1.0, 0.5, 1e-4, 9.999e-5, 1e-7, 123456789.125, 1e9, 1e16, 1.5e300, 2.2e-308,
     float("nan"), float("inf"), -float("inf"), 1 / 3, 45.2, 7.6000000000000005],
    list(np.random.default_rng(0).random(3000)
         * 10.0 ** np.random.default_rng(1).integers(-9, 12, 3000)),
    [i / 161290 for i in range(1, 2000)] * 2,
])
def test_floats_are_written_as_json_dumps_writes_them(values):
    assert jsontext.floats(np.array(values)).to_pylist() == [json.dumps(v) for v in values]


def test_strings_are_escaped_as_json_dumps_escapes_them():
    values = ["plain", 'quo"te', "back\\slash", "é", "tab\there", "\x7f", "emoji 🙂", ""]
    assert jsontext.strings(values).to_pylist() == [json.dumps(v) for v in values]


def test_cli_engines_print_the_same(logs):
    _, path, folder = logs
    runner = CliRunner()
    for command in (["map", "--json"], ["variants", "--json"], ["stuck", "--json"],
                    ["timescales", "--json"], ["bottlenecks", "--json"]):
        outputs = set()
        for target, engine in ((path, "fast"), (path, "duckdb"), (folder, "auto"),
                               (path, "pm4py")):
            result = runner.invoke(cli, ["-q", command[0], str(target), *command[1:],
                                         "--engine", engine])
            assert result.exit_code == 0, (command, engine, result.output, result.exception)
            outputs.add(result.stdout)
        assert len(outputs) == 1, command


def test_where_on_the_case_column(logs):
    log, path, folder = logs
    child = log.frame[CASE].iloc[0]
    expected = process_map(log, where=[(CASE, child)]).to_dict()
    assert expected["cases"] == 1
    for source in (opened(path, "fast"), opened(folder, "duckdb")):
        assert process_map(source, where=[(CASE, child)]).to_dict() == expected
