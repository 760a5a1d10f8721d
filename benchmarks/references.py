"""The two references cscmining's numbers are timed against and checked with.

(a) **The plain pm4py pipeline** (`pm4py_pipeline`), as a pm4py user would run it on the log:
    ``pandas.read_parquet`` → ``pm4py.format_dataframe`` → ``discover_dfg`` →
    ``discover_performance_dfg`` → ``get_variants`` → ``get_all_case_durations``. It gives the
    directly-follows counts, start/end counts, median and total durations per edge, variant
    counts and case durations, with each step timed.

(b) **DuckDB SQL** computing the numbers of ``map --json`` (`duckdb_map`: per edge count,
    children, median and 90th percentile days with ``quantile_cont``, child-days; per activity
    events, children, waiting; start and end counts), ``variants --json`` (`duckdb_variants`:
    per variant count, share, median days) and ``stuck --json`` (`duckdb_stuck`: every rule of
    ``logmaps/stages.yaml`` paired FIFO within journeys with window functions, working days
    counted on a calendar of weekdays minus the England and Wales bank holidays of the
    ``holidays`` package). The SQL follows the definitions of SPEC §2.2 and §4 and orders each
    child's events by the log's sort key (timestamp, stage:order, source, source:row); it reads
    the rules from the stage vocabulary file but uses no cscmining code.

Each is a command, run by ``run.py`` as its own process (start-up and imports included, like
cscmining's commands), printing JSON on stdout::

    python benchmarks/references.py pm4py LOG
    python benchmarks/references.py duckdb-map LOG
    python benchmarks/references.py duckdb-variants LOG
    python benchmarks/references.py duckdb-stuck LOG

`compare_map`, `compare_variants`, `compare_stuck` and `compare_pm4py` check cscmining's JSON
against them and return a list of differences (empty when equal).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: the stage vocabulary whose timescale rules `duckdb_stuck` applies (run.py points it at the
#: snapshot of the cscmining it measures)
STAGES = Path(os.environ.get("CSCMINING_BENCH_STAGES") or ROOT / "logmaps" / "stages.yaml")
SEP = "\x1f"  # joins activities into one key (never in an activity name)
CASE, ACTIVITY, TIMESTAMP = "case:concept:name", "concept:name", "time:timestamp"
ORDER_BY = '"time:timestamp", "stage:order", "source", "source:row"'


def _as_at(path: Path) -> date:
    import pyarrow.parquet as pq

    meta = json.loads((pq.read_schema(path).metadata or {})[b"cscmining"])
    return date.fromisoformat(meta["as_at"])


def _vocabulary() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(STAGES.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# (a) the plain pm4py pipeline


def pm4py_pipeline(path: Path) -> dict[str, Any]:
    """Run the pipeline on the log at ``path``; numbers plus seconds per step."""
    sys._pm4py_welcome_shown = True  # type: ignore[attr-defined]  # no banner on stderr
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    import pandas as pd
    import pm4py

    lap("import")
    df = pd.read_parquet(path)
    lap("read")
    df = pm4py.format_dataframe(df, case_id=CASE, activity_key=ACTIVITY, timestamp_key=TIMESTAMP)
    lap("format_dataframe")
    dfg, start, end = pm4py.discover_dfg(df)
    lap("discover_dfg")
    performance, _, _ = pm4py.discover_performance_dfg(df)
    lap("discover_performance_dfg")
    variants = pm4py.get_variants(df)
    lap("get_variants")
    durations = pm4py.get_all_case_durations(df)
    lap("get_all_case_durations")
    return {
        "events": len(df),
        "dfg": {f"{a}{SEP}{b}": int(n) for (a, b), n in dfg.items()},
        "performance": {f"{a}{SEP}{b}": {"median_days": float(v["median"]) / 86400,
                                         "child_days": float(v["sum"]) / 86400}
                        for (a, b), v in performance.items()},
        "start": {a: int(n) for a, n in start.items()},
        "end": {a: int(n) for a, n in end.items()},
        "variants": {SEP.join(v): int(n if isinstance(n, int) else len(n))
                     for v, n in variants.items()},
        "case_durations": {"count": len(durations),
                           "sum_days": float(sum(durations)) / 86400},
        "timings": timings,
    }


# ---------------------------------------------------------------------------------------
# (b) DuckDB


def _connect(threads: int | None = None):
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    # an in-memory database spills nowhere unless told where: at 100 M events the variants
    # query's sort otherwise runs out of memory on a 24 GiB machine
    spill = Path(__file__).resolve().parent / "data" / "duckdb_spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{_sql_path(spill)}'")
    return con


def _events_view(con, path: Path) -> None:
    con.execute(f"CREATE VIEW ev AS SELECT * FROM read_parquet('{_sql_path(path)}')")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _in_list(names: list[str] | set[str] | frozenset[str]) -> str:
    return ", ".join("'" + n.replace("'", "''") + "'" for n in sorted(names)) or "NULL"


def duckdb_map(path: Path, threads: int | None = None) -> dict[str, Any]:
    """``map --json``'s nodes, edges, start and end at detail level, in SQL."""
    vocab = _vocabulary()
    terminal = {a["name"] for a in vocab["activities"] if a.get("terminal")}
    as_at = _as_at(path)
    con = _connect(threads)
    _events_view(con, path)
    con.execute(f"""
        CREATE TEMP TABLE steps AS
        SELECT "case:concept:name" AS c, "concept:name" AS a,
               lead("concept:name") OVER w AS na,
               (epoch_ns(lead("time:timestamp") OVER w) - epoch_ns("time:timestamp"))
                   / 86400e9 AS days,
               row_number() OVER w AS rn,
               count(*) OVER (PARTITION BY "case:concept:name") AS n
        FROM ev
        WINDOW w AS (PARTITION BY "case:concept:name" ORDER BY {ORDER_BY})
    """)
    edges = con.execute("""
        SELECT a, na, count(*), count(DISTINCT c), quantile_cont(days, 0.5),
               quantile_cont(days, 0.9), sum(days)
        FROM steps WHERE na IS NOT NULL GROUP BY a, na
    """).fetchall()
    nodes = con.execute(f"""
        SELECT a, count(*), count(DISTINCT c),
               count(*) FILTER (WHERE rn = n AND a NOT IN ({_in_list(terminal)}))
        FROM steps GROUP BY a
    """).fetchall()
    start = con.execute("SELECT a, count(*) FROM steps WHERE rn = 1 GROUP BY a").fetchall()
    end = con.execute("SELECT a, count(*) FROM steps WHERE rn = n GROUP BY a").fetchall()
    return {
        "nodes": [{"activity": a, "events": e, "cases": c, "waiting": w}
                  for a, e, c, w in sorted(nodes)],
        "edges": [{"source": a, "target": b, "count": n, "cases": c, "median_days": med,
                   "p90_days": p90, "child_days": total}
                  for a, b, n, c, med, p90, total in sorted(edges)],
        "start": dict(sorted(start)),
        "end": dict(sorted(end)),
        "as_at": as_at.isoformat(),
    }


def duckdb_variants(path: Path, threads: int | None = None) -> dict[str, Any]:
    """``variants --json`` at detail level: per variant, count, share, median days."""
    con = _connect(threads)
    _events_view(con, path)
    rows = con.execute(f"""
        WITH journeys AS (
            SELECT string_agg("concept:name", '{SEP}' ORDER BY {ORDER_BY}) AS path,
                   (epoch_ns(max("time:timestamp")) - epoch_ns(min("time:timestamp")))
                       / 86400e9 AS days
            FROM ev GROUP BY "case:concept:name"
        )
        SELECT path, count(*) AS n, quantile_cont(days, 0.5), sum(days)
        FROM journeys GROUP BY path ORDER BY n DESC, path
    """).fetchall()
    cases = sum(r[1] for r in rows)
    return {
        "cases": cases,
        "variants": [{"activities": p.split(SEP), "count": n, "share": n / cases,
                      "median_days": med} for p, n, med, _ in rows],
        "case_days": sum(r[3] for r in rows),
    }


def _calendar(con, first: date, last: date) -> None:
    """``cal(d, wd)``: every day and the number of working days up to and including it."""
    import holidays
    import pandas as pd

    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first.year, last.year + 1))
    bank = pd.DataFrame({"d": pd.to_datetime(sorted(days)).date})
    con.register("bank_holidays", bank)
    con.execute(f"""
        CREATE TEMP TABLE cal AS
        SELECT d::DATE AS d,
               sum(CASE WHEN isodow(d) <= 5 AND d::DATE NOT IN (SELECT d FROM bank_holidays)
                        THEN 1 ELSE 0 END) OVER (ORDER BY d) AS wd,
               isodow(d) <= 5 AND d::DATE NOT IN (SELECT d FROM bank_holidays) AS working
        FROM range(DATE '{first.isoformat()}', DATE '{last.isoformat()}' + 1, INTERVAL 1 DAY) t(d)
    """)


def duckdb_stuck(path: Path, threads: int | None = None) -> dict[str, Any]:
    """``stuck --json``: every rule's unpaired `from` events past the limit at the as-at date."""
    vocab = _vocabulary()
    terminal = {a["name"] for a in vocab["activities"] if a.get("terminal")}
    rules = vocab.get("timescales", [])
    as_at = _as_at(path)
    con = _connect(threads)
    _events_view(con, path)
    columns = {r[0] for r in con.execute("DESCRIBE ev").fetchall()}
    con.execute(f"""
        CREATE TEMP TABLE e AS
        SELECT "case:concept:name" AS c, "concept:name" AS a, "time:timestamp"::DATE AS d,
               row_number() OVER (PARTITION BY "case:concept:name" ORDER BY {ORDER_BY}) AS rn
               {', "icpc_not_required" AS icpc_not_required' if 'icpc_not_required' in columns else ''}
        FROM ev WHERE "time:timestamp" < DATE '{as_at.isoformat()}' + 1
    """)
    first = con.execute("SELECT min(d) FROM e").fetchall()[0][0] or as_at
    _calendar(con, date(first.year, 1, 1), date(as_at.year + 6, 12, 31))
    con.execute("CREATE TEMP TABLE wdays AS SELECT wd, d FROM cal WHERE working")
    parts = []
    for rank, rule in enumerate(rules):
        stop = terminal | set(rule.get("stop_when", []))
        excluded = "FALSE"
        conditions = []
        for column, value in (rule.get("exclude_when") or {}).items():
            if column not in columns:
                conditions = ["FALSE"]
                break
            conditions.append(f"coalesce(lower(trim(\"{column}\")) = "
                              f"'{value.strip().lower()}', FALSE)")
        if conditions:
            excluded = " AND ".join(conditions)
        within, unit = int(rule["within"]), rule["unit"]
        join = ""
        if unit == "working_days":
            elapsed = "(SELECT wd FROM cal WHERE cal.d = DATE '{as_at}') - cs.wd"
            due = "w2.d"
            join = f"LEFT JOIN wdays w2 ON w2.wd = cs.wd + {within}"
        elif unit == "months":
            elapsed = ("(year(DATE '{as_at}') * 12 + month(DATE '{as_at}')) - "
                       "(year(f.d) * 12 + month(f.d)) + CASE WHEN day(DATE '{as_at}') > "
                       "least(day(f.d), day(last_day(DATE '{as_at}'))) THEN 1 ELSE 0 END")
            due = "(f.d + INTERVAL {within} MONTH)::DATE"
        elif unit == "days":
            elapsed = "DATE '{as_at}' - f.d"
            due = "f.d + {within}"
        else:  # weeks
            elapsed = "ceil((DATE '{as_at}' - f.d) / 7)::BIGINT"
            due = "f.d + 7 * {within}"
        elapsed = elapsed.format(as_at=as_at.isoformat())
        due = due.format(within=within)
        name = rule["name"].replace("'", "''")
        from_ = rule["from"].replace("'", "''")
        to = rule["to"].replace("'", "''")
        parts.append(f"""
            SELECT * FROM (
            WITH j AS (
                SELECT *, coalesce(sum(CASE WHEN a IN ({_in_list(stop)}) THEN 1 ELSE 0 END)
                    OVER (PARTITION BY c ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING
                          AND 1 PRECEDING), 0) AS jn
                FROM e
            ),
            ft AS (
                SELECT c, jn, rn, d, CASE WHEN a = '{to}' THEN -1 ELSE 1 END AS step
                FROM j WHERE a = '{to}' OR (a = '{from_}' AND NOT ({excluded}))
                UNION ALL  -- an activity at both ends: it closes first, then waits
                SELECT c, jn, rn, d, 1 FROM j
                WHERE '{from_}' = '{to}' AND a = '{from_}' AND NOT ({excluded})
            ),
            bal AS (
                SELECT *, sum(step) OVER (PARTITION BY c, jn ORDER BY rn, step
                                          ROWS UNBOUNDED PRECEDING) AS b
                FROM ft
            ),
            low AS (
                SELECT *, least(min(b) OVER (PARTITION BY c, jn ORDER BY rn, step
                                             ROWS UNBOUNDED PRECEDING), 0) AS lo
                FROM bal
            ),
            marked AS (
                SELECT *, coalesce(lag(lo) OVER (PARTITION BY c, jn ORDER BY rn, step), 0)
                    AS prev_lo
                FROM low
            ),
            froms AS (
                SELECT c, jn, rn, d, row_number() OVER (PARTITION BY c, jn ORDER BY rn) AS k
                FROM marked WHERE step = 1
            ),
            tos AS (
                SELECT c, jn, row_number() OVER (PARTITION BY c, jn ORDER BY rn) AS k
                FROM marked WHERE step = -1 AND lo = prev_lo
            ),
            ends AS (
                SELECT DISTINCT c, jn FROM j WHERE a IN ({_in_list(stop)})
            ),
            waiting AS (
                SELECT f.c, f.jn, f.rn, f.d FROM froms f
                ANTI JOIN tos t ON f.c = t.c AND f.jn = t.jn AND f.k = t.k
                ANTI JOIN ends x ON f.c = x.c AND f.jn = x.jn
            )
            SELECT f.c AS "case", '{name}' AS rule, '{from_}' AS "from", '{to}' AS "to",
                   f.d AS since, {due} AS due, {elapsed} AS elapsed, {within} AS "limit",
                   '{unit}' AS unit, DATE '{as_at.isoformat()}' - f.d AS elapsed_days,
                   {rank} AS rank, f.rn AS rn
            FROM waiting f LEFT JOIN cal cs ON cs.d = f.d {join}
            ) WHERE elapsed > {within}
        """)
    if not parts:
        return {"as_at": as_at.isoformat(), "stuck": []}
    rows = con.execute(
        " UNION ALL ".join(parts) + ' ORDER BY elapsed_days DESC, rank, "case", rn'
    ).fetchall()
    keys = ["case", "rule", "from", "to", "since", "due", "elapsed", "limit", "unit",
            "elapsed_days"]
    stuck = []
    for row in rows:
        entry = dict(zip(keys, row[:10]))
        entry["since"] = entry["since"].isoformat()
        entry["due"] = entry["due"].isoformat()
        entry["elapsed"] = int(entry["elapsed"])
        entry["elapsed_days"] = int(entry["elapsed_days"])
        stuck.append(entry)
    return {"as_at": as_at.isoformat(), "stuck": stuck}


# ---------------------------------------------------------------------------------------
# Comparisons


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=2e-6)


def _limit(problems: list[str], most: int = 10) -> list[str]:
    return problems[:most] + ([f"… and {len(problems) - most} more"] if len(problems) > most else [])


def compare_map(ours: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Differences between cscmining's ``map --json`` and the DuckDB map (empty: equal)."""
    problems = []
    mine_nodes = {n["activity"]: n for n in ours["nodes"]}
    ref_nodes = {n["activity"]: n for n in ref["nodes"]}
    if set(mine_nodes) != set(ref_nodes):
        problems.append(f"activities differ: {sorted(set(mine_nodes) ^ set(ref_nodes))}")
    for name in sorted(set(mine_nodes) & set(ref_nodes)):
        for key in ("events", "cases", "waiting"):
            if mine_nodes[name][key] != ref_nodes[name][key]:
                problems.append(f"node {name} {key}: {mine_nodes[name][key]} vs "
                                f"{ref_nodes[name][key]}")
    mine_edges = {(e["source"], e["target"]): e for e in ours["edges"]}
    ref_edges = {(e["source"], e["target"]): e for e in ref["edges"]}
    if set(mine_edges) != set(ref_edges):
        problems.append(f"edges differ: {sorted(set(mine_edges) ^ set(ref_edges))[:5]}")
    for key in sorted(set(mine_edges) & set(ref_edges)):
        a, b = mine_edges[key], ref_edges[key]
        for field in ("count", "cases"):
            if a[field] != b[field]:
                problems.append(f"edge {key} {field}: {a[field]} vs {b[field]}")
        for field in ("median_days", "p90_days", "child_days"):
            if not _close(a[field], b[field]):
                problems.append(f"edge {key} {field}: {a[field]} vs {b[field]}")
    for field in ("start", "end"):
        if {k: int(v) for k, v in ours[field].items()} != ref[field]:
            problems.append(f"{field} counts differ")
    if ours.get("as_at") != ref.get("as_at"):
        problems.append(f"as_at: {ours.get('as_at')} vs {ref.get('as_at')}")
    return _limit(problems)


def compare_variants(ours: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Differences between ``variants --json`` and the DuckDB variants (empty: equal)."""
    problems = []
    if ours["cases"] != ref["cases"]:
        problems.append(f"cases: {ours['cases']} vs {ref['cases']}")
    mine = {SEP.join(v["activities"]): v for v in ours["variants"]}
    theirs = {SEP.join(v["activities"]): v for v in ref["variants"]}
    if len(mine) != len(ours["variants"]):
        problems.append("a variant is listed twice")
    if set(mine) != set(theirs):
        problems.append(f"variants differ: {len(set(mine) - set(theirs))} only in cscmining, "
                        f"{len(set(theirs) - set(mine))} only in the reference")
    for key in set(mine) & set(theirs):
        a, b = mine[key], theirs[key]
        if a["count"] != b["count"]:
            problems.append(f"variant {key.replace(SEP, ' > ')} count: {a['count']} vs {b['count']}")
        for field in ("share", "median_days"):
            if not _close(a[field], b[field]):
                problems.append(f"variant {key.replace(SEP, ' > ')} {field}: "
                                f"{a[field]} vs {b[field]}")
    counts = [v["count"] for v in ours["variants"]]
    if counts != sorted(counts, reverse=True):
        problems.append("variants are not ranked by count")
    return _limit(problems)


def compare_stuck(ours: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Differences between ``stuck --json`` and the DuckDB stuck list, in order."""
    problems = []
    if ours["as_at"] != ref["as_at"]:
        problems.append(f"as_at: {ours['as_at']} vs {ref['as_at']}")
    keys = ["case", "rule", "from", "to", "since", "due", "elapsed", "limit", "unit",
            "elapsed_days"]
    mine = [tuple(e[k] for k in keys) for e in ours["stuck"]]
    theirs = [tuple(e[k] for k in keys) for e in ref["stuck"]]
    if len(mine) != len(theirs):
        problems.append(f"stuck entries: {len(mine)} vs {len(theirs)}")
    if sorted(mine) != sorted(theirs):
        only_mine = sorted(set(mine) - set(theirs))[:3]
        only_theirs = sorted(set(theirs) - set(mine))[:3]
        problems.append(f"entries differ; only cscmining e.g. {only_mine}; "
                        f"only the reference e.g. {only_theirs}")
    elif mine != theirs:
        problems.append("same entries, different order")
    return _limit(problems)


def compare_pm4py(map_json: dict[str, Any] | None, variants_json: dict[str, Any] | None,
                  ref: dict[str, Any]) -> list[str]:
    """cscmining's map and variants against the plain pm4py pipeline's numbers."""
    problems = []
    if map_json is not None:
        edges = {f"{e['source']}{SEP}{e['target']}": e for e in map_json["edges"]}
        if {k: e["count"] for k, e in edges.items()} != ref["dfg"]:
            problems.append("DFG counts differ from pm4py's discover_dfg")
        for key, perf in ref["performance"].items():
            edge = edges.get(key)
            if edge is None or not _close(edge["median_days"], perf["median_days"]) \
                    or not _close(edge["child_days"], perf["child_days"]):
                problems.append(f"edge {key.replace(SEP, ' > ')} durations differ from pm4py's "
                                "discover_performance_dfg")
        if {k: int(v) for k, v in map_json["start"].items()} != ref["start"] or \
                {k: int(v) for k, v in map_json["end"].items()} != ref["end"]:
            problems.append("start/end counts differ from pm4py's")
    if variants_json is not None:
        mine = {SEP.join(v["activities"]): v["count"] for v in variants_json["variants"]}
        if mine != ref["variants"]:
            problems.append(f"variant counts differ from pm4py's get_variants "
                            f"({len(mine)} vs {len(ref['variants'])} variants)")
        if variants_json["cases"] != ref["case_durations"]["count"]:
            problems.append("case count differs from pm4py's get_all_case_durations")
    return _limit(problems)


# ---------------------------------------------------------------------------------------
# Command line


COMMANDS = {
    "pm4py": lambda p, t: pm4py_pipeline(p),
    "duckdb-map": duckdb_map,
    "duckdb-variants": duckdb_variants,
    "duckdb-stuck": duckdb_stuck,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Reference computations on an event log.")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("log", type=Path)
    parser.add_argument("--threads", type=int, default=None,
                        help="DuckDB threads (default: DuckDB's, all cores)")
    args = parser.parse_args(argv)
    result = COMMANDS[args.command](args.log, args.threads)
    sys.stdout.write(json.dumps(result, default=str))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
