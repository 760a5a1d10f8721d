"""Map numbers on hand-worked logs, pm4py as the oracle, pressure points and simplification."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cscmining.columns import ACTIVITY, CASE, TIMESTAMP
from cscmining.discover import (
    MIN_SCORE,
    bottlenecks,
    check_with_pm4py,
    discover_map,
    pm4py_dfg,
    pressure_points,
    process_map,
    rank_pressure,
    simplify,
    stage_rank,
)
from cscmining.errors import AccountingError, UsageError
from cscmining.eventlog import from_records

R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"
CIN, S47, ICPC, CPP = "CIN plan start", "S47 enquiry", "ICPC", "CP plan start"
LA, REV = "Looked after start", "CLA review"

# c1: R 1 Jan, A 3 Jan, AA 20 Feb, C 1 Mar (2024 is a leap year)
# c2: R 5 Jan, A 5 Jan, AA 25 Jan, CIN 1 Feb (still open)
# c3: R 1 Feb, A 10 Feb (still open, waiting for authorisation)
RECORDS = [
    ("c1", R, "2024-01-01"), ("c1", A, "2024-01-03"), ("c1", AA, "2024-02-20"),
    ("c1", C, "2024-03-01"),
    ("c2", R, "2024-01-05"), ("c2", A, "2024-01-05"), ("c2", AA, "2024-01-25"),
    ("c2", CIN, "2024-02-01"),
    ("c3", R, "2024-02-01"), ("c3", A, "2024-02-10"),
]


@pytest.fixture(scope="module")
def result():
    return discover_map(from_records(RECORDS, as_at="2024-06-30"))


def test_edges_hand_worked(result):
    # R→A: c1 2 d, c2 0 d, c3 9 d. Sorted [0, 2, 9]: median 2; p90 index 0.9·2 = 1.8,
    #   2 + 0.8·(9 − 2) = 7.6; child-days 0 + 2 + 9 = 11.
    # A→AA: c1 3 Jan→20 Feb = 28 + 20 = 48 d, c2 5→25 Jan = 20 d. Median (20+48)/2 = 34;
    #   p90 index 0.9: 20 + 0.9·28 = 45.2; child-days 68.
    # AA→C: c1 20 Feb→1 Mar = 10 d (29 Feb exists). AA→CIN: c2 25 Jan→1 Feb = 7 d.
    got = {e.key: (e.count, e.cases, e.median_days, e.p90_days, e.child_days) for e in result.edges}
    assert got == {
        (R, A): (3, 3, 2.0, pytest.approx(7.6), 11.0),
        (A, AA): (2, 2, 34.0, pytest.approx(45.2), 68.0),
        (AA, CIN): (1, 1, 7.0, 7.0, 7.0),
        (AA, C): (1, 1, 10.0, 10.0, 10.0),
    }
    # listed in stage order of (source, target): Assessment authorised (80) before
    # CIN plan start (120) before Case closed (220)
    assert [e.key for e in result.edges] == [(R, A), (A, AA), (AA, CIN), (AA, C)]


def test_percentiles_match_numpy_exactly(result):
    assert result.edge(R, A).p90_days == np.percentile([0, 2, 9], 90)
    assert result.edge(A, AA).p90_days == np.percentile([20, 48], 90)


def test_nodes_start_end_and_waiting(result):
    got = {n.activity: (n.events, n.cases, n.waiting) for n in result.nodes}
    # waiting: latest event not terminal — c3 at Assessment start, c2 at CIN plan start;
    # c1's latest is Case closed (terminal), so nobody waits there
    assert got == {R: (3, 3, 0), A: (3, 3, 1), AA: (2, 2, 0), CIN: (1, 1, 1), C: (1, 1, 0)}
    assert [n.activity for n in result.nodes] == [R, A, AA, CIN, C]
    assert result.start == {R: 3}
    assert result.end == {A: 1, CIN: 1, C: 1}
    assert (result.cases, result.events) == (3, 10)
    assert result.period[0].isoformat() == "2024-01-01"
    assert result.as_at.isoformat() == "2024-06-30"


def test_node_ids_follow_the_vocabulary(result):
    # ids come from the vocabulary's order, not from what this map happens to contain
    rank = stage_rank(from_records(RECORDS).vocabulary)
    assert [n.id for n in result.nodes] == [f"n{rank[n.activity]}" for n in result.nodes]
    assert result.node(R).id == "n3"  # Contact, Early help start, Early help end, Referral
    alone = discover_map(from_records([("x", R, "2024-01-01")]))
    assert alone.node(R).id == "n3"


def test_timescale_breach_rate_on_its_edge(result):
    # assessment rule, 45 working days: c1 3 Jan → 20 Feb is 34 working days (met),
    # c2 met; c3 started 10 Feb, nothing by 30 Jun: stuck. (0 + 1) / 3
    edge = result.edge(A, AA)
    assert edge.breach_rate == pytest.approx(1 / 3)
    [rate] = edge.timescales
    assert (rate.name, rate.met, rate.breached, rate.stuck) == ("assessment", 2, 0, 1)
    assert result.edge(R, A).breach_rate is None


def test_a_rule_on_the_map_keeps_its_json_field_names(result):
    """The map's rules are `timescales.RuleSummary` (one type, no renamed copy); ``map
    --json`` still names them as it always has (SPEC §5: fields added, never renamed)."""
    [rule] = result.edge(A, AA).to_dict()["timescales"]
    assert list(rule) == ["rule", "label", "from", "to", "within", "unit", "met", "breached",
                          "stuck", "open", "breach_rate"]
    assert (rule["rule"], rule["from"], rule["to"], rule["breach_rate"]) == (
        "assessment", A, AA, round(1 / 3, 6))


def test_rule_without_its_edge_sits_on_the_from_stage():
    # S47 → Assessment authorised → ICPC: no S47→ICPC edge, so the icpc rule is on S47
    log = from_records(
        [("a", S47, "2024-01-02"), ("a", AA, "2024-01-03"), ("a", ICPC, "2024-03-01")],
        as_at="2024-03-31")
    result = discover_map(log)
    assert [t.name for t in result.node(S47).timescales] == ["icpc"]
    assert result.node(S47).breach_rate == 1.0


def test_to_dict_has_the_spec_shape(result):
    d = result.to_dict()
    assert set(d) >= {"nodes", "edges", "start", "end", "as_at"}
    assert set(d["nodes"][0]) >= {"activity", "events", "cases", "waiting"}
    assert set(d["edges"][0]) >= {"source", "target", "count", "cases", "median_days",
                                  "p90_days", "child_days"}
    assert d["as_at"] == "2024-06-30"
    assert d["edges"][0] == {**d["edges"][0], "source": R, "target": A, "count": 3, "cases": 3,
                             "median_days": 2.0, "p90_days": 7.6, "child_days": 11.0}
    assert d["start"] == {R: 3}


# ---------------------------------------------------------------------------------------
# Ties and the oracle


def test_same_day_ties_follow_stage_order_not_input_order():
    # given "backwards": Assessment authorised (80) before Assessment start (50), same day;
    # ICPC (70) before S47 enquiry (60), same day
    log = from_records([
        ("a", AA, "2024-01-10"), ("a", A, "2024-01-10"), ("a", R, "2024-01-01"),
        ("b", ICPC, "2024-02-01"), ("b", S47, "2024-02-01"), ("b", R, "2024-01-20"),
    ])
    result = discover_map(log)
    assert {e.key: e.count for e in result.edges} == {
        (R, A): 1, (A, AA): 1, (R, S47): 1, (S47, ICPC): 1}
    assert result.edge(A, AA).median_days == 0.0
    assert [e.key for e in result.edges] == [(R, A), (R, S47), (A, AA), (S47, ICPC)]


def _random_log(seed: int, children: int = 60):
    rng = np.random.default_rng(seed)
    acts = [R, A, AA, S47, ICPC, CPP, CIN, LA, REV, C]
    records = []
    for child in range(children):
        for _ in range(int(rng.integers(1, 8))):
            day = int(rng.integers(0, 40))  # few days: many same-day ties
            records.append((f"k{child:03d}", str(rng.choice(acts)), f"2024-01-{1 + day % 28:02d}"))
    return from_records(records, as_at="2024-03-31")


@pytest.mark.parametrize("seed", range(5))
def test_pm4py_agrees_on_tie_heavy_logs(seed):
    log = _random_log(seed)
    result = discover_map(log)
    sys._pm4py_welcome_shown = True
    import pm4py

    dfg, start, end = pm4py.discover_dfg(log.frame[[CASE, ACTIVITY, TIMESTAMP]].copy())
    assert {k: int(v) for k, v in dfg.items()} == {e.key: e.count for e in result.edges}
    assert {k: int(v) for k, v in start.items()} == result.start
    assert {k: int(v) for k, v in end.items()} == result.end
    _, performance, _, _ = pm4py_dfg(log.frame)
    for edge in result.edges:
        assert performance[edge.key]["median"] / 86_400 == pytest.approx(edge.median_days)
        assert performance[edge.key]["sum"] / 86_400 == pytest.approx(edge.child_days)
    assert sum(dfg.values()) == log.events - log.cases


def test_disagreement_with_pm4py_stops_the_run(result):
    frame = from_records(RECORDS, as_at="2024-06-30").frame
    wrong = replace(result, edges=(replace(result.edges[0], count=99), *result.edges[1:]))
    with pytest.raises(AccountingError, match="pm4py and cscmining disagree"):
        check_with_pm4py(frame, wrong)
    slow = replace(result, edges=(replace(result.edges[0], child_days=12.0), *result.edges[1:]))
    with pytest.raises(AccountingError, match="durations differ"):
        check_with_pm4py(frame, slow)


def test_child_days_do_not_overflow():
    # 300 children × 1,000 days: 3e5 child-days is past int64 nanoseconds (~1.07e5 days)
    records = [r for i in range(300)
               for r in ((f"x{i}", LA, "2020-01-01"), (f"x{i}", REV, "2022-09-27"))]
    result = discover_map(from_records(records))
    assert result.edge(LA, REV).child_days == 300_000.0
    assert result.edge(LA, REV).median_days == 1_000.0


# ---------------------------------------------------------------------------------------
# Summary level


def test_summary_level_numbers():
    # x: Contact 1 Jan, Referral 2 Jan (Front door), Assessment start 3 Jan (Assessment),
    #    S47 5 Jan, ICPC 20 Jan (Child protection), Assessment authorised 25 Jan (Assessment),
    #    CP plan start 25 Jan (Child protection; order 130 after 80), Looked after start 1 Apr.
    # Visits: FD 1 Jan, A 3 Jan, CP 5 Jan, A 25 Jan, CP 25 Jan, LA 1 Apr.
    # FD→A 2 d; A→CP 2 d and 0 d; CP→A 20 d; CP→LA 25 Jan→1 Apr = 6 + 29 + 31 + 1 = 67 d.
    log = from_records([
        ("x", "Contact", "2024-01-01"), ("x", R, "2024-01-02"), ("x", A, "2024-01-03"),
        ("x", S47, "2024-01-05"), ("x", ICPC, "2024-01-20"), ("x", AA, "2024-01-25"),
        ("x", CPP, "2024-01-25"), ("x", LA, "2024-04-01"),
    ], as_at="2024-06-30")
    result = discover_map(log, level="summary")
    got = {e.key: (e.count, e.cases, e.median_days, e.child_days) for e in result.edges}
    assert got == {
        ("Front door", "Assessment"): (1, 1, 2.0, 2.0),
        ("Assessment", "Child protection"): (2, 1, 1.0, 2.0),
        ("Child protection", "Assessment"): (1, 1, 20.0, 20.0),
        ("Child protection", "Looked after"): (1, 1, 67.0, 67.0),
    }
    nodes = {n.activity: (n.events, n.cases, n.waiting) for n in result.nodes}
    assert nodes == {"Front door": (1, 1, 0), "Assessment": (2, 1, 0),
                     "Child protection": (2, 1, 0), "Looked after": (1, 1, 1)}
    # the icpc and assessment rules sit on their groups (both ends in one group)
    rules = [t.name for t in result.node("Child protection").timescales]
    assert rules == ["icpc", "first_cp_review"]
    assert [t.name for t in result.node("Assessment").timescales] == ["assessment"]
    assert result.level == "summary"


def test_summary_terminal_groups_do_not_wait():
    log = from_records([("a", R, "2024-01-01"), ("a", C, "2024-01-02"),
                        ("b", LA, "2024-01-01"), ("b", "Left care: adopted", "2024-05-02")])
    result = discover_map(log, level="summary")
    assert result.total_waiting == 0
    assert {n.activity: n.terminal for n in result.nodes} == {
        "Front door": False, "Looked after": False, "Left care": True, "Closed": True}


# ---------------------------------------------------------------------------------------
# Pressure points


def test_pressure_score_and_reasons():
    # Edges hold 100 child-days: R→A 60 (60%), A→AA 30 (30%), AA→C 10 (10%).
    # Waiting at 1 May: A 8 (a and seven w's), AA 1 (b), CIN 1 (z): A holds 80%.
    # Assessment rule: b met, a open (1 Mar → 1 May is 41 working days, Easter excluded),
    # the w's open: breach rate 0, so no breach reason anywhere.
    log = from_records([
        ("a", R, "2024-01-01"), ("a", A, "2024-03-01"),  # 31 + 29 = 60 days
        ("b", A, "2024-01-01"), ("b", AA, "2024-01-31"),  # 30 days
        ("c", AA, "2024-01-01"), ("c", C, "2024-01-11"),  # 10 days
        *[(f"w{i}", A, "2024-05-01") for i in range(7)],
        ("z", CIN, "2024-05-01"),
    ], as_at="2024-05-01")
    result = discover_map(log)
    assert result.edge(A, AA).breach_rate == 0.0
    ranked = rank_pressure(result)
    top = ranked[0]
    assert (top.kind, top.where, top.score) == ("stage", A, pytest.approx(0.8))
    assert top.reasons == ("8 children waiting (80% of all waiting)",)
    edges = [p for p in ranked if p.kind == "edge"]
    assert [(p.where, p.score) for p in edges] == [
        (f"{R} → {A}", pytest.approx(0.6)), (f"{A} → {AA}", pytest.approx(0.3)),
        (f"{AA} → {C}", pytest.approx(0.1)),
    ]
    assert edges[0].reasons == ("holds 60% of all child-days",)
    points = pressure_points(result, top=3)
    assert [(p.rank, p.where) for p in points] == [
        (1, A), (2, f"{R} → {A}"), (3, f"{A} → {AA}")]
    assert all(p.score >= MIN_SCORE for p in points)


def test_breach_reason_and_weaker_reasons():
    # Five S47 enquiries on 1 Jan, ICPC on 5 Jan for two (2 working days: met) and on
    # 1 Mar for three (over 15 working days: breached): 60% miss the timescale. The edge also
    # holds all child-days (100%): the strongest reason first, the other kept (≥ 10%).
    log = from_records([(f"m{i}", S47, "2024-01-01") for i in range(5)]
                       + [(f"m{i}", ICPC, "2024-01-05") for i in range(2)]
                       + [(f"m{i}", ICPC, "2024-03-01") for i in range(2, 5)], as_at="2024-03-01")
    [point] = [p for p in rank_pressure(discover_map(log)) if p.kind == "edge"]
    assert point.score == 1.0
    assert point.reasons == (
        "holds 100% of all child-days",
        "60% miss the timescale: ICPC within 15 working days of the S47 enquiry (3 of 5)",
    )


def test_pressure_points_leave_out_small_scores():
    log = from_records([(f"c{i}", R, "2024-01-01") for i in range(20)]
                       + [(f"c{i}", A, "2024-01-02") for i in range(20)]
                       + [(f"c{i}", C, "2024-01-03") for i in range(20)])
    result = discover_map(log)
    # R→A and A→C hold 50% each; nobody waits
    assert [p.where for p in pressure_points(result, top=5)] == [f"{R} → {A}", f"{A} → {C}"]
    assert pressure_points(result, top=1)[0].where == f"{R} → {A}"  # tie: stage order


def test_bottlenecks_report():
    report = bottlenecks(from_records(RECORDS, as_at="2024-06-30"), top=2)
    assert len(report.points) == 2
    d = report.to_dict()
    assert d["as_at"] == "2024-06-30" and d["cases"] == 3
    assert [b["rank"] for b in d["bottlenecks"]] == [1, 2]
    assert {"kind", "score", "reasons"} <= set(d["bottlenecks"][0])


# ---------------------------------------------------------------------------------------
# Simplification


def test_simplify_hides_the_least_busy_and_says_so():
    # main road R → A → C for 10 children; one child detours through CIN (rare)
    records = [r for i in range(10) for r in (
        (f"m{i}", R, "2024-01-01"), (f"m{i}", A, "2024-01-02"), (f"m{i}", C, "2024-01-05"))]
    records += [("d", R, "2024-01-01"), ("d", CIN, "2024-01-03"), ("d", C, "2024-02-01")]
    full = discover_map(from_records(records))
    simple = simplify(full, activities=75)  # 4 activities → keep 3
    assert [n.activity for n in simple.nodes] == [R, A, C]
    assert simple.hidden.activities == (CIN,)
    assert simple.hidden.events == 1
    assert simple.hidden.moves == 2  # R→CIN and CIN→C
    assert simple.hidden.paths == 2
    assert simplify(full) is full


def test_simplify_keeps_a_bridge_needed_for_connectivity():
    # X (Missing) is busy but only reachable through LA, which is rare: LA must stay
    records = [("a", LA, "2024-01-01")]
    records += [("a", "Missing", f"2024-01-{d:02d}") for d in range(2, 20)]
    records += [("a", "Left care: other", "2024-02-01")]
    records += [(f"r{i}", act, f"2024-01-0{day}") for i in range(5) for day, act in ((1, R), (2, C))]
    full = discover_map(from_records(records))
    simple = simplify(full, activities=25)  # keep Missing (18 events) only, plus what it needs
    names = [n.activity for n in simple.nodes]
    assert "Missing" in names and LA in names and "Left care: other" in names


def test_simplify_never_hides_pressure_points():
    result = process_map(_random_log(7), activities=0, paths=0, top=3)
    kept_edges = {e.key for e in result.edges}
    kept_nodes = {n.activity for n in result.nodes}
    for p in result.pressure:
        if p.kind == "edge":
            assert p.item.key in kept_edges
        else:
            assert p.item.activity in kept_nodes


def test_simplify_rejects_bad_percentages(result):
    with pytest.raises(UsageError, match="--paths"):
        simplify(result, paths=120)


def _connected_both_ways(result):
    """Every node reachable from start and reaching end (open journeys end where they wait)."""
    succ: dict = {}
    pred: dict = {}
    links = [e.key for e in result.edges] + [("<start>", a) for a in result.start] \
        + [(a, "<end>") for a in result.end]
    for a, b in links:
        succ.setdefault(a, set()).add(b)
        pred.setdefault(b, set()).add(a)

    def reach(origin, graph):
        seen, todo = {origin}, [origin]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    names = {n.activity for n in result.nodes}
    return names <= reach("<start>", succ) and names <= reach("<end>", pred)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), activities=st.floats(0, 100), paths=st.floats(0, 100),
       level=st.sampled_from(["detail", "summary"]))
def test_simplification_keeps_every_kept_node_connected(seed, activities, paths, level):
    full = discover_map(_random_log(seed, children=25), level=level)
    full = replace(full, pressure=pressure_points(full))
    simple = simplify(full, activities=activities, paths=paths)
    assert simple.nodes
    assert _connected_both_ways(simple)
    # every edge joins kept nodes; the numbers of what is kept are unchanged
    names = {n.activity for n in simple.nodes}
    assert all(e.source in names and e.target in names for e in simple.edges)
    assert set(simple.edges) <= set(full.edges)
    assert len(full.nodes) - len(simple.nodes) == len(simple.hidden.activities)
