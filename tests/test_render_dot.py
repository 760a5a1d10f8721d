"""Our DOT writer: escaping, stable ids, layout attributes, key, formats, determinism."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cscmining.discover import process_map
from cscmining.errors import UsageError
from cscmining.eventlog import from_records
from cscmining.render import day, days, number
from cscmining.render.dot import (
    VERMILLION,
    RenderError,
    duration_colour,
    label_lines,
    output_format,
    quote,
    render,
    to_dot,
    write_map,
)
from cscmining.vocabulary import Activity, load_vocabulary

R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"
HOSTILE = 'a"b\\c<d>'
RECORDS = [
    ("c1", R, "2024-01-01"), ("c1", A, "2024-01-03"), ("c1", AA, "2024-02-20"),
    ("c1", C, "2024-03-01"),
    ("c2", R, "2024-01-05"), ("c2", A, "2024-01-05"), ("c2", AA, "2024-01-25"),
    ("c3", R, "2024-02-01"), ("c3", A, "2024-02-10"),
]


@pytest.fixture(scope="module")
def result():
    return process_map(from_records(RECORDS, as_at="2024-06-30"))


# ---------------------------------------------------------------------------------------
# Quoting


@pytest.mark.parametrize("text, dot", [
    ("plain", '"plain"'),
    (HOSTILE, '"a\\"b\\\\c<d>"'),
    ("ends with \\", '"ends with \\\\"'),
    ("\\N \\G", '"\\\\N \\\\G"'),
    ("two\nlines\r", '"two lines "'),
])
def test_quote(text, dot):
    assert quote(text) == dot


def test_label_lines_escape_each_line():
    assert label_lines('x"', "y\\") == 'x\\"\\ny\\\\'


@pytest.fixture(scope="module")
def hostile_log():
    vocab = load_vocabulary().with_activities([Activity(name=HOSTILE, order=45, group="<b>&\"g\\")])
    records = [(f"h{i}", act, f"2024-01-0{day}") for i in range(5)
               for day, act in ((1, R), (2, HOSTILE))]
    records += [("z", R, "2024-01-01"), ("z", C, "2024-01-02")]
    attributes = [{"team": 'T"<x>&\\'} for _ in records]
    return from_records(records, vocabulary=vocab, as_at="2024-02-01", attributes=attributes)


@pytest.mark.parametrize("level", ["detail", "summary"])
@pytest.mark.parametrize("metric", ["frequency", "performance"])
def test_hostile_labels_survive_dot(hostile_log, level, metric):
    result = process_map(hostile_log, level=level, where=[("team", 'T"<x>&\\')])
    assert result.pressure  # the hostile stage holds the waiting children: in the HTML key
    source = to_dot(result, metric=metric)
    svg = render(source, "svg").decode("utf-8")
    name = HOSTILE if level == "detail" else '<b>&"g\\'
    assert html.escape(name) in source  # in the HTML-like title block, escaped as HTML
    assert quote(name)[1:-1] in source  # in the node label, escaped as a DOT string
    escaped = html.escape(name, quote=False).replace('"', "&quot;")  # as graphviz writes it
    assert escaped in svg  # drawn as text, in a node and in the title block
    assert svg.count(escaped) >= 2
    assert "<d>" not in svg and "<b>&" not in svg and "<x>" not in svg
    assert "T&quot;&lt;x&gt;&amp;\\" in svg  # the filter value in the title block
    tips = re.findall(r'tooltip="((?:[^"\\]|\\.)*)"', source)
    assert tips and not any("a\\\"b" in t or "<" in t or "T\\\"" in t for t in tips)  # SEC-4


# ---------------------------------------------------------------------------------------
# Structure


def test_dot_structure(result):
    source = to_dot(result)
    assert source.startswith('digraph "process map" {\n')
    assert "rankdir=LR" in source
    assert re.search(r'^  start \[label="Start", shape=circle', source, re.M)
    assert re.search(r'^  end \[label="End", shape=doublecircle', source, re.M)
    # stable ids by vocabulary order: Referral n3, Assessment start n4, authorised n7
    assert re.search(r'^  n3 \[label="Referral\\n3 children"', source, re.M)
    assert "  start -> n3 [" in source
    assert re.search(r'^  n3 -> n4 \[label="(▲\d  )?3"', source, re.M)
    # end arrows only from terminal stages; open journeys say "waiting now" instead
    assert "  n28 -> end [" in source
    assert "n4 -> end" not in source
    assert "1 waiting now" in source
    # nodes first, in stage order, then edges in (source, target) order
    nodes = re.findall(r"^  (n\d+) \[", source, re.M)
    assert nodes == ["n3", "n4", "n7", "n28"]
    edges = re.findall(r"^  (n\d+ -> n\d+) ", source, re.M)
    assert edges == ["n3 -> n4", "n4 -> n7", "n7 -> n28"]


def test_title_block_and_key(result):
    source = to_dot(result)
    assert "Children’s journeys through social care" in source
    assert "3 children, 9 events; events 1 Jan 2024 to 1 Mar 2024; as at 30 Jun 2024" in source
    assert "Filters: none" in source
    for key in ("<B>Lines</B>", "<B>Boxes</B>", "<B>Marks</B>", "width: number of moves",
                "pressure point", "End: case closed or left care"):
        assert key in source
    assert "<B>Colour</B>" not in source
    performance = to_dot(result, metric="performance")
    assert "<B>Colour</B>" in performance and "median time to the next stage" in performance


def test_pressure_points_stand_out(result):
    source = to_dot(result)
    first = result.pressure[0]
    assert f"▲{first.rank}" in source
    assert source.count(f'color="{VERMILLION}"') >= len(result.pressure)
    listed = re.findall(r"▲(\d+)</B></FONT> <B>", source)
    assert listed == [str(p.rank) for p in result.pressure]


def test_performance_labels_and_colours(result):
    source = to_dot(result, metric="performance")
    # Referral → Assessment start: median 2 d, p90 7.6 d, under a week: lightest blue
    assert re.search(r'n3 -> n4 \[label="(▲\d+  )?2 d / 7.6 d"', source)
    # Assessment start → authorised: median 34 d = 4.9 wk, p90 45.2 d = 6.5 wk; rule 33%
    assert "4.9 wk / 6.5 wk\\n33% over timescale" in source
    assert "MO" not in source


def test_hidden_is_said(result):
    simple = process_map(from_records(RECORDS, as_at="2024-06-30"), activities=50, paths=50, top=0)
    source = to_dot(simple)
    assert "Hidden to simplify:" in source
    assert "Hidden to simplify:" not in to_dot(result)


def test_filters_are_said():
    result = process_map(from_records(RECORDS, attributes=[{"team": "N"}] * len(RECORDS)),
                         where=["team=N"])
    assert "Filters: team = N" in to_dot(result)


def test_tooltips_are_numbers_and_fixed_words(result):
    source = to_dot(result, metric="performance")
    assert ('tooltip="2 moves by 2 children; median 4.9 wk, 90th percentile 6.5 wk; '
            '68 child-days; 33% over a 45 working-day timescale"') in source
    assert 'tooltip="3 children, 3 events, 1 waiting now"' in source


def test_bad_metric(result):
    with pytest.raises(UsageError, match="--metric"):
        to_dot(result, metric="colourful")


# ---------------------------------------------------------------------------------------
# Numbers as people read them


@pytest.mark.parametrize("value, text", [
    (0, "0 d"), (1, "1 d"), (2.5, "2.5 d"), (7.6, "7.6 d"), (13.6, "14 d"), (14, "2 wk"),
    (45, "6.4 wk"), (59, "8.4 wk"), (100, "14 wk"), (400, "57 wk"), (730, "2 yr"), (1000, "2.7 yr"),
])
def test_days(value, text):
    assert days(value) == text


def test_number_and_day():
    assert number(9.96) == "10" and number(1234.4) == "1,234" and number(3.0) == "3"
    from datetime import date

    assert day(date(2024, 4, 1)) == "1 Apr 2024"


def test_duration_colours_step_up():
    colours = [duration_colour(d) for d in (0, 6.9, 7, 27, 28, 90, 91, 181, 182, 1000)]
    assert len(set(colours)) == 5
    assert colours[0] == colours[1] != colours[2]


# ---------------------------------------------------------------------------------------
# Files


@pytest.mark.parametrize("suffix, magic", [
    (".dot", b'digraph "process map"'), (".gv", b"digraph"), (".svg", b"<?xml"),
    (".png", b"\x89PNG"), (".pdf", b"%PDF"),
])
def test_write_map_by_extension(result, tmp_path, suffix, magic):
    path = write_map(result, tmp_path / f"map{suffix.upper()}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_unknown_extension(tmp_path):
    with pytest.raises(UsageError, match=r"svg, \.png, \.pdf or \.dot"):
        output_format(tmp_path / "map.jpg")


def test_missing_dot_binary(result, monkeypatch):
    monkeypatch.setattr("cscmining.render.dot.shutil.which", lambda _name: None)
    with pytest.raises(RenderError, match="not installed"):
        render(to_dot(result), "svg")


# ---------------------------------------------------------------------------------------
# Same input, same bytes


SCRIPT = """
import hashlib, sys
from cscmining.discover import process_map
from cscmining.eventlog import from_records
from cscmining.render.dot import render, to_dot
records = {records!r}
attributes = [{{"team": "T" + str(i % 3)}} for i in range(len(records))]
log = from_records(records, as_at="2024-06-30", attributes=attributes)
for level in ("detail", "summary"):
    for metric in ("frequency", "performance"):
        result = process_map(log, level=level, where=["team=T0", "team=T1"], paths=60)
        dot = to_dot(result, metric=metric)
        print(level, metric, hashlib.sha256(dot.encode()).hexdigest(),
              hashlib.sha256(render(dot, "svg")).hexdigest())
"""


def test_byte_identical_across_hash_seeds():
    records = RECORDS + [(f"x{i}", act, f"2024-0{1 + i % 5}-1{i % 10}")
                         for i in range(40) for act in (R, A, "S47 enquiry", "ICPC", C)]
    script = SCRIPT.format(records=records)
    outputs = []
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True, cwd=Path(__file__).parent.parent)
        outputs.append(done.stdout)
    assert outputs[0].count("\n") == 4
    assert outputs[0] == outputs[1] == outputs[2]
