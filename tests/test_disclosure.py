"""Disclosure control: the engine and the independent checker (reliability.md §3.7).

Expected values are worked out by hand in the comments. K is the threshold: standard shows
counts of at least 6 (1 to 5 become c); strict shows counts of at least 10, rounded half up to
a multiple of 5 (12 → 10, 13 → 15, 23 → 25, 37 → 35, 58 → 60), with secondary suppression.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections import Counter
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cscmining import disclosure as sdc
from cscmining.disclosure import NONE, STANDARD, STRICT, FlowGraph, Policy
from cscmining.errors import CscMiningError, UsageError

CSP = ("<meta http-equiv=\"Content-Security-Policy\" "
       "content=\"default-src 'none'; style-src 'unsafe-inline'\">")


def rules(findings: list[sdc.Finding]) -> list[str]:
    return [f.rule for f in findings]


# ---------------------------------------------------------------------------------------
# Renderers that follow the count-position convention (as the real ones must)


def dot_of(graph: FlowGraph) -> str:
    """A frequency map in DOT: counts alone on a label line, start/end drawn as edges from and
    to unlabelled nodes, widths from shown values, one colour for every suppressed element."""
    largest = max((v for v in graph.terms().values() if isinstance(v, int)), default=0)
    ids = {a: f"n{i}" for i, a in enumerate(graph.nodes, 1)}
    lines = ["digraph map {", '  start [label="", shape=circle];',
             '  end [label="", shape=doublecircle];']
    for a, v in graph.nodes.items():
        fill = "#eeeeee" if v == sdc.SUPPRESSED else "#9ecae1"
        lines.append(f'  {ids[a]} [label="{a}\\n{sdc.format_count(v)}", style=filled, '
                     f'fillcolor="{fill}"];')

    def edge(tail: str, head: str, v: sdc.Count) -> None:
        colour = "#999999" if v == sdc.SUPPRESSED else "#000000"
        lines.append(f'  {tail} -> {head} [label="{sdc.format_count(v)}", '
                     f'penwidth={sdc.penwidth(v, largest)}, color="{colour}"];')

    for a, v in graph.start.items():
        edge("start", ids[a], v)
    for (a, b), v in graph.edges.items():
        edge(ids[a], ids[b], v)
    for a, v in graph.end.items():
        edge(ids[a], "end", v)
    return "\n".join([*lines, "}"]) + "\n"


def json_of(events: FlowGraph, cases: FlowGraph) -> str:
    """A map in the SPEC's ``map --json`` shape."""
    return json.dumps({
        "nodes": [{"activity": a, "events": events.nodes[a], "cases": cases.nodes[a], "waiting": 0}
                  for a in events.nodes],
        "edges": [{"source": a, "target": b, "count": events.edges[(a, b)],
                   "cases": cases.edges[(a, b)], "median_days": 3.5, "p90_days": 10.0}
                  for a, b in events.edges],
        "start": dict(events.start), "end": dict(events.end), "as_at": "2025-03",
    }, indent=1)


def svg_of(dot: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    return done.stdout


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


def maps_of(traces: list[list[str]]) -> tuple[FlowGraph, FlowGraph]:
    """The events and children measures of the directly-follows graph of ``traces``."""
    nodes, edges, start, end = Counter(), Counter(), Counter(), Counter()
    node_cases, edge_cases = Counter(), Counter()
    for t in traces:
        nodes.update(t)
        edges.update(itertools.pairwise(t))
        start[t[0]] += 1
        end[t[-1]] += 1
        node_cases.update(set(t))
        edge_cases.update(set(itertools.pairwise(t)))
    cases = len(traces) or None
    return (FlowGraph(dict(nodes), dict(edges), dict(start), dict(end), cases),
            FlowGraph({a: node_cases[a] for a in nodes}, {e: edge_cases[e] for e in edges},
                      dict(start), dict(end), cases))


# ---------------------------------------------------------------------------------------
# Policy (T-SDC-08)


def test_levels_have_the_spec_rules():
    assert (STANDARD.threshold, STANDARD.rounding, STANDARD.secondary) == (6, 1, False)
    assert (STRICT.threshold, STRICT.rounding, STRICT.secondary) == (10, 5, True)
    assert (NONE.threshold, NONE.rounding, NONE.shareable) == (1, 1, False)
    assert STRICT.date_granularity == "month" and STANDARD.date_granularity == "day"
    assert not STANDARD.individual_dates and not STRICT.individual_dates and NONE.individual_dates
    assert not STANDARD.allow_extremes and not STRICT.allow_extremes and NONE.allow_extremes
    assert STRICT.manifest() == {
        "level": "strict", "threshold": 10, "rounding": 5, "secondary": True,
        "date_granularity": "month", "individual_dates": False, "allow_extremes": False,
        "rules": sdc.RULES_VERSION,
    }


@pytest.mark.parametrize("make", [
    lambda: Policy.from_name("standard", threshold=3),
    lambda: Policy.from_name("strict", threshold=5),
    lambda: Policy("standard", 5, 1),
])
def test_a_threshold_below_the_floor_is_refused(make):
    with pytest.raises(UsageError, match="K_BELOW_FLOOR"):
        make()


def test_other_bad_policies_are_refused():
    with pytest.raises(UsageError, match="multiple of the rounding base"):
        Policy.from_name("strict", threshold=12)  # 12 would round to 10, below K
    with pytest.raises(UsageError, match="no threshold"):
        Policy.from_name("none", threshold=10)
    with pytest.raises(UsageError, match="unknown disclosure level"):
        Policy.from_name("loose")
    assert Policy.from_name("strict", threshold=20).threshold == 20
    assert Policy.from_name("standard", threshold=8).threshold == 8


# ---------------------------------------------------------------------------------------
# Counts and tables (T-SDC-01, T-SDC-02)

CELLS = [0, 1, 4, 5, 6, 9, 10, 23]


@pytest.mark.parametrize("policy, expected", [
    (STRICT, [0, "c", "c", "c", "c", "c", 10, 25]),
    (STANDARD, [0, "c", "c", "c", 6, 9, 10, 23]),
    (NONE, CELLS),
])
def test_t_sdc_01_primary_suppression_and_rounding(policy, expected):
    assert [sdc.protect_count(n, policy) for n in CELLS] == expected


def test_t_sdc_01_totals_are_rounded_from_unrounded_values():
    table = pd.DataFrame({"cell": [f"r{i}" for i in range(8)], "children": CELLS})
    strict = sdc.protect_table(table, STRICT, counts=["children"], label="cell", total_row=True)
    # shown cells sum to 35; the total is 58 rounded: 60. Five c cells hide 25 together, no
    # one of them alone, so no secondary suppression is needed.
    assert strict["children"].tolist() == [0, "c", "c", "c", "c", "c", 10, 25, 60]
    assert strict["cell"].tolist()[-1] == "Total"
    standard = sdc.protect_table(table, STANDARD, counts=["children"], label="cell", total_row=True)
    assert standard["children"].tolist() == [0, "c", "c", "c", 6, 9, 10, 23, 58]
    assert any("totals may not equal the sum of their parts" in line for line in sdc.legend(STRICT))
    assert not any("sum of their parts" in line for line in sdc.legend(STANDARD))
    assert "c  confidential: a count from 1 to 5" in sdc.legend(STANDARD)


def test_t_sdc_02_a_lone_suppressed_cell_takes_the_next_smallest_with_it():
    # 3 + 12 + 25 = 40: with 40, 12 and 25 shown, the c is 3. Hide the next smallest, 12.
    table = pd.DataFrame({"team": ["North"], "A": [3], "B": [12], "C": [25]})
    strict = sdc.protect_table(table, STRICT, counts=["A", "B", "C"], label="team",
                               total_column=True)
    assert strict.loc[0, ["A", "B", "C", "Total"]].tolist() == ["c", "c", 25, 40]
    # standard has no secondary suppression (SPEC §6): 3 stays derivable there
    standard = sdc.protect_table(table, STANDARD, counts=["A", "B", "C"], label="team",
                                 total_column=True)
    assert standard.loc[0, ["A", "B", "C", "Total"]].tolist() == ["c", 12, 25, 40]


TWO_WAY = pd.DataFrame({"team": ["North", "South"], "A": [3, 14], "B": [12, 16], "C": [25, 20]})


def test_t_sdc_02_secondary_suppression_runs_to_a_fixed_point():
    #          A   B   C  Total          A   B   C  Total
    # North    3  12  25   40    →       c   c  25   40
    # South   14  16  20   50            c   c  20   50
    # Total   17  28  45   90           15  30  45   90
    # 3 is c; row North gives it away → hide 12; column A (17 = c + 14) → hide 14; row South
    # (50 = c + 16 + 20) → hide 16. The 2×2 block of c has one free value: nothing follows.
    out = sdc.protect_table(TWO_WAY, STRICT, counts=["A", "B", "C"], label="team",
                            total_row=True, total_column=True)
    assert out["team"].tolist() == ["North", "South", "Total"]
    assert out[["A", "B", "C", "Total"]].values.tolist() == [
        ["c", "c", 25, 40], ["c", "c", 20, 50], [15, 30, 45, 90]]
    assert sdc.check_text(out.to_csv(index=False), STRICT, kind="csv") == []


def test_t_sdc_02_the_checker_sees_a_derivable_cell_in_a_table():
    # the standard table (no secondary suppression) read as if it were shared at strict
    out = sdc.protect_table(TWO_WAY, Policy.from_name("standard", threshold=10),
                            counts=["A", "B", "C"], label="team", total_row=True, total_column=True)
    csv = out.to_csv(index=False)
    assert csv.splitlines()[1] == "North,c,12,25,40"
    found = sdc.check_text(csv, STRICT, kind="csv")
    assert ("line 2, column 2", "DERIVABLE") in [(f.where, f.rule) for f in found]


def test_tables_refuse_what_they_cannot_protect():
    with pytest.raises(ValueError, match="whole number"):
        sdc.protect_table(pd.DataFrame({"n": [1.5]}), STRICT, counts=["n"])
    with pytest.raises(ValueError, match="negative"):
        sdc.protect_count(-1, STRICT)
    with pytest.raises(ValueError, match="missing"):
        sdc.protect_table(pd.DataFrame({"n": [1]}), STRICT, counts=["m"])
    assert sdc.protect_count("c", STRICT) == "c"


# ---------------------------------------------------------------------------------------
# Process maps (T-SDC-03, T-SDC-04)

#   40 children do A; then 30 do B, 7 do C, 3 do D, and stop there.
FAN_OUT = FlowGraph(
    nodes={"A": 40, "B": 30, "C": 7, "D": 3},
    edges={("A", "B"): 30, ("A", "C"): 7, ("A", "D"): 3},
    start={"A": 40}, end={"B": 30, "C": 7, "D": 3},
)


def test_t_sdc_03_small_edges_are_hidden_and_cannot_be_worked_out():
    shown = sdc.protect_graph(FAN_OUT, STRICT)
    # A's out-flow 40 = 30 + c + c: the two c add up to 10 but neither follows alone.
    assert shown.nodes == {"A": 40, "B": 30, "C": "c", "D": "c"}
    assert shown.edges == {("A", "B"): 30, ("A", "C"): "c", ("A", "D"): "c"}
    assert shown.end == {"B": 30, "C": "c", "D": "c"}
    assert sdc.derivable(shown) == []
    assert sdc.check_text(dot_of(shown), STRICT, kind="dot") == []
    # suppressed edges are drawn at one width, whatever they hide
    assert sdc.penwidth("c", 40) == sdc.SUPPRESSED_PENWIDTH == 1.0
    assert sdc.penwidth(40, 40) == 6.0 and sdc.penwidth(30, 40) == 4.75
    assert shown.suppressed() == {("node", "C"), ("node", "D"), ("edge", "A", "C"),
                                  ("edge", "A", "D"), ("end", "C"), ("end", "D")}


def test_t_sdc_03_one_small_edge_beside_a_shown_total_is_caught():
    # 40 = 37 + 3: with no secondary suppression the c is 40 - 37.
    graph = FlowGraph({"A": 40, "B": 37, "C": 3}, {("A", "B"): 37, ("A", "C"): 3},
                      {"A": 40}, {"B": 37, "C": 3})
    standard = sdc.protect_graph(graph, Policy.from_name("standard", threshold=10))
    assert sdc.derivable(standard) == [("node", "C"), ("edge", "A", "C"), ("end", "C")]
    assert "DERIVABLE" in rules(sdc.check_text(dot_of(standard), STRICT, kind="dot"))
    strict = sdc.protect_graph(graph, STRICT)
    # C's three c hang together (C = A→C = C→end), so the smallest shown term of A's
    # out-flow goes too: B's edge (37). Then B's in-flow gives it away: hide B (37 = c)...
    # and B's out-flow gives B away: hide B's end. Only A and its start remain.
    assert strict.nodes == {"A": 40, "B": "c", "C": "c"}
    assert strict.edges == {("A", "B"): "c", ("A", "C"): "c"}
    assert strict.end == {"B": "c", "C": "c"} and strict.start == {"A": 40}
    assert sdc.derivable(strict) == []


def test_t_sdc_03_the_checker_fails_a_map_that_draws_a_hidden_edge_wide():
    dot = dot_of(sdc.protect_graph(FAN_OUT, STRICT))
    widened = dot.replace('label="c", penwidth=1.0', 'label="c", penwidth=1.75', 1)
    assert widened != dot
    assert rules(sdc.check_text(widened, STRICT, kind="dot")) == ["SUPPRESSED_STYLE"]
    recoloured = dot.replace('label="c", penwidth=1.0, color="#999999"',
                             'label="c", penwidth=1.0, color="#555555"', 1)
    assert rules(sdc.check_text(recoloured, STRICT, kind="dot")) == ["SUPPRESSED_STYLE"]


#   22 children do A then B, 15 only A, 3 start at B: A 37, B 25, A→B 22,
#   start A 37 and B 3, end A 15 and B 25.
START_END = FlowGraph({"A": 37, "B": 25}, {("A", "B"): 22}, {"A": 37, "B": 3}, {"A": 15, "B": 25})


def test_t_sdc_04_start_and_end_counts_are_sums_too():
    shown = sdc.protect_graph(START_END, STRICT)
    # start B is 3 → c; B's in-flow 25 = 22 + c gives it away → hide A→B (22, smaller than
    # 25); A's out-flow 37 = c + 15 gives that away → hide A's end (15). Then B's in-flow and
    # A's out-flow each hold two c: nothing follows.
    assert shown.nodes == {"A": 35, "B": 25}
    assert shown.edges == {("A", "B"): "c"}
    assert shown.start == {"A": 35, "B": "c"}
    assert shown.end == {"A": "c", "B": 25}
    assert sdc.derivable(shown) == []
    assert sdc.check_text(dot_of(shown), STRICT, kind="dot") == []
    standard = sdc.protect_graph(START_END, STANDARD)
    assert standard.start == {"A": 37, "B": "c"} and standard.edges == {("A", "B"): 22}


def test_t_sdc_04_the_number_of_children_is_a_sum_of_the_starts():
    # 33 children do only A, 4 only B; the title shows 37 children.
    graph = FlowGraph({"A": 33, "B": 4}, {}, {"A": 33, "B": 4}, {"A": 33, "B": 4}, cases=37)
    # B, its start and end are c. 37 = start A + c gives start B away → hide start A (33 <
    # 37); A = start A gives that away → hide A; A = end A → hide end A. All but 37 → 35.
    shown = sdc.protect_graph(graph, STRICT)
    assert shown.terms() == {("node", "A"): "c", ("node", "B"): "c", ("start", "A"): "c",
                             ("start", "B"): "c", ("end", "A"): "c", ("end", "B"): "c",
                             ("cases",): 35}
    without_title = sdc.protect_graph(FlowGraph(graph.nodes, {}, graph.start, graph.end), STRICT)
    assert without_title.nodes == {"A": 35, "B": "c"}


def test_the_measures_of_one_map_share_one_suppression_pattern():
    # 2 children do A, B, A, B; 12 do A, B. Transitions: A→B 2×2 + 12 = 16, B→A 2;
    # children: A→B 14, B→A 2.
    events, cases = maps_of([["A", "B", "A", "B"]] * 2 + [["A", "B"]] * 12)
    assert events.edges == {("A", "B"): 16, ("B", "A"): 2}
    assert cases.edges == {("A", "B"): 14, ("B", "A"): 2}
    both = sdc.protect_graphs([events, cases], STRICT)
    assert both[0].suppressed() == both[1].suppressed()
    assert sdc.check_text(json_of(both[0], both[1]), STRICT, kind="json") == []
    with pytest.raises(ValueError, match="same nodes"):
        sdc.protect_graphs([events, FlowGraph({"A": 1}, {})], STRICT)
    with pytest.raises(ValueError, match="name one of its nodes"):
        FlowGraph({"A": 1}, {("A", "B"): 1})


# ---------------------------------------------------------------------------------------
# Variants, durations, shares, dates (T-SDC-05, T-SDC-06, T-SDC-07, T-SDC-09)


def test_t_sdc_05_rare_variants_fold_into_other():
    # 4 common variants (40, 25, 12, 10) and 196 rare ones of 1, 2, 3, 1, 2, 3, …, 1 children:
    # 65 rounds of 1+2+3 = 390, plus 1 = 391. All children: 87 + 391 = 478.
    counts = {("v", 0): 40, ("v", 1): 25, ("v", 2): 12, ("v", 3): 10}
    counts.update({("v", 4 + i): 1 + i % 3 for i in range(196)})
    strict = sdc.protect_variants(counts, STRICT)
    assert strict.listed == [(("v", 0), 40), (("v", 1), 25), (("v", 2), 10), (("v", 3), 10)]
    assert (strict.other, strict.other_variants, strict.cases) == (390, 195, 480)
    assert len(strict.folded) == 196
    standard = sdc.protect_variants(counts, STANDARD)
    assert [n for _, n in standard.listed] == [40, 25, 12, 10]
    assert (standard.other, standard.other_variants, standard.cases) == (391, 196, 478)
    everything = sdc.protect_variants(counts, NONE)
    assert len(everything.listed) == 200 and everything.other == 0 and everything.cases == 478


def test_t_sdc_05_a_small_other_bucket_takes_the_smallest_variant():
    # 30, 12, 3 with K = 10: other would be 3 (c), and 45 - 30 - 12 gives it away. Fold 12
    # in: other 15 from 2 variants (2 < K: c).
    shown = sdc.protect_variants({"p": 30, "q": 12, "r": 3}, STRICT)
    assert (shown.listed, shown.other, shown.other_variants) == ([("p", 30)], 15, "c")
    assert shown.cases == 45
    assert shown.folded == ("q", "r")
    # fewer children than K in all: nothing listed, everything c
    tiny = sdc.protect_variants({"p": 4, "q": 3}, STRICT)
    assert (tiny.listed, tiny.other, tiny.cases) == ([], "c", "c")


def test_t_sdc_06_durations_need_k_children_and_never_show_extremes():
    assert sdc.protect_duration(12.4, 4, STRICT) == "c"
    assert sdc.protect_duration(12.4, 5, STANDARD) == "c"
    assert sdc.protect_duration(12.4, 6, STANDARD) == 12
    assert sdc.protect_duration(12.5, 50, STRICT) == 13  # whole days, half up
    assert sdc.protect_duration(300.0, 50, STRICT, extreme=True) == "c"
    assert sdc.protect_duration(300.0, 50, STANDARD, extreme=True) == "c"
    assert sdc.protect_duration(300.0, 50, NONE, extreme=True) == 300.0
    assert sdc.protect_duration(12.4, 1, NONE) == 12.4
    # a duration beside a count that secondary suppression hid is hidden with it
    assert sdc.protect_duration(40.0, "c", STRICT) == "c"
    assert sdc.protect_duration(float("nan"), 0, STRICT) == "z"
    report = json.dumps({"rule": "ICPC", "median_days": 12, "max_days": 300})
    found = sdc.check_text(report, STANDARD, kind="json")
    assert [(f.where, f.rule) for f in found] == [("$.max_days", "EXTREME")]
    assert sdc.check_text(report, NONE, kind="json") == []


def test_t_sdc_07_percentages():
    assert sdc.protect_share(3, 200, STRICT) == "c"       # numerator hidden
    assert sdc.protect_share(4, 5, STANDARD) == "c"       # both hidden
    assert sdc.protect_share("c", 40, STRICT) == "c"      # hidden by secondary suppression
    assert sdc.protect_share(10, 5000, STRICT) == "k"     # 0.2 % rounds to 0 but is not 0
    assert sdc.protect_share(0, 50, STRICT) == 0
    assert sdc.protect_share(12, 40, STANDARD) == 30
    assert sdc.protect_share(12, 40, STRICT) == 25        # from the shown 10 of 40
    assert sdc.protect_share(7, 40, STANDARD) == 18       # 17.5 → 18
    assert sdc.protect_share(7, 40, STANDARD, decimals=1) == 17.5
    assert sdc.protect_share(0, 0, NONE) == "z"
    assert sdc.protect_share(1, 3, NONE) == 33


def test_t_sdc_09_dates_are_coarsened_or_withheld():
    day = date(2024, 4, 17)
    assert sdc.coarsen_date(day, STRICT) == "2024-04"
    assert sdc.coarsen_date(day, STANDARD) == "2024-04-17"
    assert sdc.coarsen_date(day, STANDARD, individual=True) is None
    assert sdc.coarsen_date(day, STRICT, individual=True) is None
    assert sdc.coarsen_date(pd.Timestamp(day), NONE, individual=True) == "2024-04-17"
    assert sdc.coarsen_date(pd.NaT, NONE) is None


@pytest.mark.parametrize("written", ["2024-04-17", "17/04/2024", "17 April 2024", "17th Apr 2024",
                                     "April 17, 2024", "2024-04-17T09:30:00"])
def test_t_sdc_09_the_checker_finds_day_level_dates(written):
    text = f"<p>since {written}</p>"
    assert rules(sdc.check_text(text, STRICT, kind="svg")) == ["DATE"]
    assert rules(sdc.check_text(text, STANDARD, kind="svg")) == ["DATE"]
    assert sdc.check_text(text, STANDARD, kind="svg", allowed_dates=[date(2024, 4, 17)]) == []
    assert sdc.check_text(text, NONE, kind="svg") == []


def test_t_sdc_09_months_pass_and_escaped_dates_are_read():
    assert sdc.check_text("<p>April 2024 to 2025-03</p>", STRICT, kind="svg") == []
    # graphviz writes the hyphens of a label as &#45;
    assert rules(sdc.check_text("<text>2024&#45;04&#45;17</text>", STRICT, kind="svg")) == ["DATE"]
    # a standard report may show its as-at date, but not at strict
    as_at = json.dumps({"as_at": "2025-03-31"})
    assert sdc.check_text(as_at, STANDARD, kind="json", allowed_dates=[date(2025, 3, 31)]) == []
    found = sdc.check_text(as_at, STRICT, kind="json", allowed_dates=[date(2025, 3, 31)])
    assert rules(found) == ["DATE"]


# ---------------------------------------------------------------------------------------
# Count positions: the convention renderers follow


def test_html_count_positions():
    page = """<html><head><title>Report 12</title><style>td { width: 12px }</style></head><body>
    <p>Of <span>1,234</span> children, <span class="n">c</span> waited.</p>
    <table><tr><th>rank</th><th>children</th><th>median</th></tr>
    <tr><td class="nc">1</td><td>45</td><td>12 d</td></tr></table>
    <p>In 2024 there were 3 moves.</p></body></html>"""
    assert [(p.where, p.text) for p in sdc.count_positions(page, "html")] == [
        ("line 2", "1,234"), ("line 2", "c"), ("line 4", "45")]


def test_json_and_csv_count_positions():
    doc = {"cases": 12, "variants": [{"rank": 1, "count": 7, "share": 0.58, "median_days": 4}],
           "start": {"Referral": 12}}
    assert [(p.where, p.text) for p in sdc.count_positions(json.dumps(doc), "json")] == [
        ("$.cases", "12"), ("$.variants[0].count", "7"), ('$.start.Referral', "12")]
    csv = "stage,children,median days,share (%),year\nReferral,12,4,35,2024\n"
    positions = sdc.count_positions(csv, "csv")
    assert [(p.where, p.text) for p in positions] == [("line 2, column 2", "12")]


def test_dot_count_positions():
    dot = ('digraph { graph [label="Referrals\\n2024-04"];\n'
           ' n1 [label="Section 47\\n1,234\\nmedian 3 d"];\n'
           ' n2; 12 -> n1 [label=c, xlabel="45"]; n1 -> n2:p [label=<<b>6</b>>] }')
    assert [p.text for p in sdc.count_positions(dot, "dot")] == ["1,234", "12", "c", "45", "6"]


@needs_dot
def test_graphviz_svg_keeps_the_count_lines():
    shown = sdc.protect_graph(FAN_OUT, STRICT)
    svg = svg_of(dot_of(shown))
    texts = sorted(p.text for p in sdc.count_positions(svg, "svg"))
    assert texts == sorted(["40", "30", "c", "c", "40", "30", "c", "c", "30", "c", "c"])
    assert sdc.check_text(svg, STRICT, kind="svg") == []


# ---------------------------------------------------------------------------------------
# T-SDC-11: tampered artefacts fail the run


def test_t_sdc_11_a_small_count_in_a_csv_fails_the_run(tmp_path):
    out = sdc.protect_table(TWO_WAY, STRICT, counts=["A", "B", "C"], label="team",
                            total_row=True, total_column=True)
    path = tmp_path / "teams.csv"
    path.write_text(out.to_csv(index=False).replace("North,c,", "North,3,"), encoding="utf-8")
    with pytest.raises(sdc.DisclosureError) as caught:
        sdc.check_file(path, STRICT)
    assert isinstance(caught.value, CscMiningError)
    # the shown 3 fixes the whole block of c: North B = 40 - 3 - 25, South A = 15 - 3 (with
    # rounded totals, roughly), South B = 50 - South A - 20
    assert [(f.where, f.rule) for f in caught.value.findings] == [
        ("line 2, column 2", "SMALL_COUNT"), ("line 2, column 3", "DERIVABLE"),
        ("line 3, column 2", "DERIVABLE"), ("line 3, column 3", "DERIVABLE")]
    assert "line 2, column 2: a count below 10 is shown" in str(caught.value)


@pytest.mark.parametrize("kind, clean, tampered, rule", [
    ("html", "<td>c</td>", "<td>3</td>", "SMALL_COUNT"),
    ("html", "<td>c</td>", "<td>12</td>", "NOT_ROUNDED"),
    ("svg", "<text>c</text>", "<text>7</text>", "SMALL_COUNT"),
    ("json", '{"count": "c"}', '{"count": 3}', "SMALL_COUNT"),
    ("json", '{"count": 10}', '{"count": 10.5}', "NOT_A_COUNT"),
    ("dot", 'digraph { a -> b [label="c"] }', 'digraph { a -> b [label="3"] }', "SMALL_COUNT"),
])
def test_t_sdc_11_tampered_counts_are_found_in_every_format(kind, clean, tampered, rule):
    page = f"<html><head>{CSP}</head><body>{{}}</body></html>" if kind == "html" else "{}"
    assert sdc.check_text(page.format(clean) if kind == "html" else clean, STRICT, kind=kind) == []
    found = sdc.check_text(page.format(tampered) if kind == "html" else tampered, STRICT, kind=kind)
    assert rules(found) == [rule]


def test_a_standard_report_shows_counts_of_six_and_more_unrounded():
    assert sdc.check_text("<text>7</text><text>12</text>", STANDARD, kind="svg") == []
    assert rules(sdc.check_text("<text>5</text>", STANDARD, kind="svg")) == ["SMALL_COUNT"]
    assert sdc.check_text("<text>5</text>", NONE, kind="svg") == []


def test_check_file_picks_the_kind_from_the_suffix(tmp_path):
    (tmp_path / "map.dot").write_text(dot_of(sdc.protect_graph(FAN_OUT, STRICT)), encoding="utf-8")
    sdc.check_file(tmp_path / "map.dot", STRICT)
    (tmp_path / "map.png").write_bytes(b"\x89PNG")
    with pytest.raises(UsageError, match="cannot check"):
        sdc.check_file(tmp_path / "map.png", STRICT)
    (tmp_path / "map.svg.part").write_bytes(b"\xff\xfe<svg>")
    with pytest.raises(sdc.DisclosureError, match="not UTF-8"):
        sdc.check_file(tmp_path / "map.svg.part", STRICT, kind="svg")


# ---------------------------------------------------------------------------------------
# Identifiers (SEC-9, T-SEC-08)


def test_input_child_ids_are_found_as_whole_tokens_and_never_echoed(tmp_path):
    ids = ["ABC123", "0102", "101", "4471234"]
    text = "Moved: abc123\nref X-0102-Y\nXABC1234 ok\n101 children\n4471234 left\n"
    found = sdc.check_text(text, NONE, kind="csv", forbidden_ids=ids)
    # line 3's token is longer than any id; 101 is a short number, not searched (MIN_NUMERIC_ID)
    assert [(f.where, f.rule) for f in found] == [("line 1", "CHILD_ID"), ("line 2", "CHILD_ID"),
                                                  ("line 5", "CHILD_ID")]
    path = tmp_path / "out.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sdc.DisclosureError) as caught:
        sdc.check_file(path, NONE, forbidden_ids=ids)
    message = str(caught.value)
    assert "line 1: an input child id" in message
    assert not any(i.casefold() in message.casefold() for i in ["ABC123", "0102", "4471234"])


@pytest.mark.parametrize("text, rule", [
    ("pupil A123456789012 here", "UPN"),
    ("temporary UPN A12345678901B", "UPN"),
    ("NHS 9434765919", "NHS_NUMBER"),
    ("NHS 943 476 5919", "NHS_NUMBER"),
    ("lives at SW1A 1AA", "POSTCODE"),
    ("lives at M1 1AE", "POSTCODE"),
    ("case 3f2a9c0d4b5e6f708192a3b4c5d6e7f8", "PSEUDONYM"),
])
def test_identifier_shaped_strings_are_found(text, rule):
    assert rules(sdc.check_text(text, STANDARD, kind="csv")) == [rule]


@pytest.mark.parametrize("text", [
    "NHS 9434765918",                         # fails the modulus 11 check
    "A1234567890123 is 14 characters",
    "sw1a 1aa lower case is ordinary text",
    "colour #9ecae1 and path M46,-215.6C46",
    "12345678901 eleven digits",
])
def test_lookalikes_are_not_identifiers(text):
    assert sdc.check_text(text, STANDARD, kind="csv") == []


def test_pseudonyms_are_allowed_only_for_the_analyst():
    line = "case 3f2a9c0d4b5e6f708192a3b4c5d6e7f8"
    assert sdc.check_text(line, NONE, kind="csv") == []


# ---------------------------------------------------------------------------------------
# External references (SEC-3, T-SEC-02)


@pytest.mark.parametrize("body", [
    '<link rel="stylesheet" href="style.css">',
    '<link rel="icon" href="data:,">',
    '<script src="app.js"></script>',
    '<img src="https://example.org/x.png">',
    '<img src="//cdn.example.org/x.png">',
    '<a href="http://example.org">source</a>',
    '<svg><image xlink:href="map.png"/></svg>',
    '<div style="background: url(http://example.org/x.png)">x</div>',
    "<style>@import 'fonts.css';</style>",
    '<meta http-equiv="refresh" content="0; url=https://example.org">',
])
def test_external_references_are_found(body):
    page = f"<html><head>{CSP}</head><body>{body}</body></html>"
    assert "EXTERNAL" in rules(sdc.check_text(page, NONE, kind="html"))


def test_inline_references_pass_and_the_csp_is_required():
    body = ('<a href="#legend">legend</a><img src="data:image/png;base64,iVBORw0KGgo=">'
            '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(#g)"/></svg>')
    page = f"<html><head>{CSP}</head><body>{body}</body></html>"
    assert sdc.check_text(page, NONE, kind="html") == []
    no_csp = f"<html><body>{body}</body></html>"
    assert rules(sdc.check_text(no_csp, NONE, kind="html")) == ["NO_CSP"]
    linked = 'digraph { a [URL="https://example.org"] }'
    assert rules(sdc.check_text(linked, NONE, kind="dot")) == ["EXTERNAL"]


# ---------------------------------------------------------------------------------------
# A whole report


@needs_dot
def test_a_strict_report_passes_and_its_tampered_copy_fails():
    events, cases = maps_of([["A", "B", "C"]] * 30 + [["A", "C"]] * 7 + [["A", "D"]] * 3
                            + [["B"]] * 12)
    shown, shown_cases = sdc.protect_graphs([events, cases], STRICT)
    svg = svg_of(dot_of(shown)).split("?>", 1)[1]
    table = sdc.protect_table(TWO_WAY, STRICT, counts=["A", "B", "C"], label="team",
                              total_row=True, total_column=True)
    rows = "".join("<tr>" + "".join(f"<td>{sdc.format_count(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    head = "".join(f"<th>{c}</th>" for c in table.columns)
    legend = "".join(f"<li>{line}</li>" for line in sdc.legend(STRICT))
    page = (f"<!DOCTYPE html><html><head>{CSP}<title>Workshop</title></head><body>"
            f"<h1>Journeys, 2024-04 to 2025-03</h1>{svg}"
            f"<table><tr>{head}</tr>{rows}</table><ul>{legend}</ul>"
            f'<script type="application/json">{json_of(shown, shown_cases)}</script></body></html>')
    assert sdc.check_text(page, STRICT, kind="html", forbidden_ids=["ABC123"]) == []
    leaked = page.replace("<td>c</td>", "<td>3</td>", 1)
    assert "SMALL_COUNT" in rules(sdc.check_text(leaked, STRICT, kind="html"))
    unhidden = page.replace("<td>c</td><td>c</td><td>25</td>",
                            "<td>c</td><td>10</td><td>25</td>", 1)
    assert "DERIVABLE" in rules(sdc.check_text(unhidden, STRICT, kind="html"))
    data = json.loads(json_of(shown, shown_cases))
    data["edges"][0]["count"] = 3
    script_line = page[: page.index("<script")].count("\n") + 1
    assert (f"line {script_line}, $.edges[0].count", "SMALL_COUNT") in [
        (f.where, f.rule) for f in sdc.check_text(
            page.replace(json_of(shown, shown_cases), json.dumps(data)), STRICT, kind="html")]


# ---------------------------------------------------------------------------------------
# Properties


def allowed(shown: sdc.Count, policy: Policy) -> bool:
    """c, 0, or at least K and on the rounding base."""
    return shown in ("c", 0) or (shown >= policy.threshold and shown % policy.rounding == 0)


@given(st.integers(0, 5000),
       st.sampled_from([STANDARD, STRICT, Policy.from_name("strict", threshold=20)]))
def test_counts_shown_are_zero_or_at_least_k_and_on_the_base(n, policy):
    shown = sdc.protect_count(n, policy)
    assert allowed(shown, policy)
    assert sdc.protect_count(shown, policy) == shown
    assert (shown == "c") == (0 < n < policy.threshold)


traces = st.lists(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=6), max_size=60)


@settings(max_examples=150, deadline=None)
@given(traces, st.booleans())
def test_protected_maps_are_safe_and_protection_is_idempotent(journeys, titled):
    events, cases = maps_of(journeys)
    if not titled:
        events, cases = (FlowGraph(g.nodes, g.edges, g.start, g.end) for g in (events, cases))
    for policy in (STANDARD, STRICT):
        shown = sdc.protect_graph(events, policy)
        assert all(allowed(v, policy) for v in shown.terms().values())
        assert sdc.protect_graph(shown, policy) == shown
        assert sdc.check_text(dot_of(shown), policy, kind="dot") == []
    strict = sdc.protect_graph(events, STRICT)
    assert sdc.derivable(strict) == []
    both = sdc.protect_graphs([events, cases], STRICT)
    assert both[0].suppressed() == both[1].suppressed()
    assert sdc.derivable(both[0]) == [] and sdc.derivable(both[1]) == []
    assert sdc.check_text(json_of(*both), STRICT, kind="json") == []


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4).flatmap(
           lambda w: st.lists(st.lists(st.integers(0, 40), min_size=w, max_size=w),
                              min_size=1, max_size=5)),
       st.booleans(), st.booleans())
def test_protected_tables_are_safe(rows, total_row, total_column):
    columns = [f"k{j}" for j in range(len(rows[0]))]
    table = pd.DataFrame(rows, columns=columns)
    table.insert(0, "group", [f"g{i}" for i in range(len(rows))])
    for policy in (STANDARD, STRICT):
        out = sdc.protect_table(table, policy, counts=columns, label="group",
                                total_row=total_row, total_column=total_column)
        counted = columns + (["Total"] if total_column else [])
        for value in out[counted].to_numpy().ravel():
            assert allowed(value, policy)
            assert sdc.protect_count(value, policy) == value
        assert sdc.check_text(out.to_csv(index=False), policy, kind="csv") == []


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text("abc", min_size=1, max_size=4), st.integers(1, 30), max_size=30))
def test_protected_variants_never_need_a_c_beside_listed_ones(counts):
    shown = sdc.protect_variants(counts, STRICT)
    assert all(n != "c" and n >= 10 and n % 5 == 0 for _, n in shown.listed)
    assert shown.other in (0, "c") or shown.other >= 10
    if shown.other == "c":
        assert shown.listed == [] and shown.cases == "c"
    assert len(shown.listed) + len(shown.folded) == len(counts)


def test_css_and_svg_colours_are_not_child_ids() -> None:
    """`#111111` as a colour is not the child id 111111; the same digits as text still are."""
    ids = ["111111"]
    css = "<style>body { color: #111111; }</style><svg><rect fill=\"#111111\"/></svg>"
    assert [f for f in sdc.check_text(css, NONE, kind="html", forbidden_ids=ids)
            if f.rule == "CHILD_ID"] == []
    shown = "<p>child #111111</p>"
    assert "CHILD_ID" in [f.rule for f in sdc.check_text(shown, NONE, kind="html", forbidden_ids=ids)]
