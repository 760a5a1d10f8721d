"""The workshop report (`cscmining.report`) and the protected map it draws (`cscmining.protected`).

Hand-made logs with known small counts check that suppression reaches the page (labels,
widths, colours, bars); the samples check a whole report: the checker passes it and catches
a tampered copy, nothing in it points outside the file or names a child, hostile activity
names stay text, and a strict report shows only c, 0 or multiples of 5 of at least 10.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cscmining import disclosure as sdc
from cscmining.columns import CASE
from cscmining.demo import sample_inputs
from cscmining.disclosure import STANDARD, STRICT, DisclosureError, Policy
from cscmining.discover import process_map, simplify
from cscmining.eventlog import EventLog, from_records
from cscmining.ingest import build_event_log
from cscmining.protected import Guard, ProtectedMap
from cscmining.render.charts import Tick, volume_chart
from cscmining.render.dot import HIDDEN, RenderError, render, to_dot
from cscmining.report import inline_svg, write_report
from cscmining.vocabulary import Activity, load_vocabulary

SAMPLES = Path(__file__).parents[1] / "samples"
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
R, A, AA, C = "Referral", "Assessment start", "Assessment authorised", "Case closed"


def journeys(spec: list[tuple[int, list[str]]], *, start: int = 0) -> list[tuple[str, str, str]]:
    """``n`` children through ``steps`` each, one step a week from April 2024."""
    records = []
    child = start
    for n, steps in spec:
        for _ in range(n):
            child += 1
            records += [(f"child{child:04d}", step, f"2024-{4 + i // 4:02d}-{1 + 7 * (i % 4):02d}")
                        for i, step in enumerate(steps)]
    return records


#: 20 children referral → assessment → closed; 3 go straight from referral to closed
THREE = journeys([(20, [R, A, AA, C]), (3, [R, C])])


@pytest.fixture(scope="module")
def three_log() -> EventLog:
    return from_records(THREE, as_at="2024-12-31")


class Page(HTMLParser):
    """Elements, their attributes and text, and the graphviz map items of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.items: dict[str, dict[str, object]] = {}  # "section/title" -> labels, stroke
        self._stack: list[str] = []
        self._item: dict[str, object] | None = None
        self._section = ""
        self._in = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "section":
            self._section = values.get("id", "")
        if tag == "g" and values.get("class") == "edge":
            self._item = {"labels": [], "stroke": None, "width": None}
        if self._item is not None and tag == "path" and self._item["stroke"] is None:
            self._item["stroke"] = values.get("stroke")
            self._item["width"] = values.get("stroke-width")
        self._in = tag

    def handle_data(self, data):
        if self._item is None or not data.strip():
            return
        if self._in == "title":
            self._item["title"] = data.strip()
            self.items[f"{self._section}/{data.strip()}"] = self._item
        elif self._in == "text":
            self._item["labels"].append(data.strip())

    def handle_endtag(self, tag):
        if tag == "g":
            self._item = None


def ids_of(result) -> dict[str, str]:
    return {n.activity: n.id for n in result.nodes}


# ---------------------------------------------------------------------------------------
# Suppression reaches the page


def test_a_three_child_edge_is_c_and_drawn_like_every_hidden_edge(three_log, tmp_path):
    path = write_report(three_log, tmp_path / "r.html").path
    page = Page(path.read_text(encoding="utf-8"))
    ids = ids_of(process_map(three_log, level="summary"))
    hidden = page.items[f"summary-map/{ids['Front door']}->{ids['Closed']}"]
    shown = page.items[f"summary-map/{ids['Front door']}->{ids['Assessment']}"]
    assert hidden["labels"] == ["c"]
    assert hidden["width"] is None  # graphviz writes no stroke-width for penwidth 1.0
    assert hidden["stroke"] == HIDDEN.lower()
    assert "20" in shown["labels"] and float(shown["width"]) > sdc.SUPPRESSED_PENWIDTH
    # the detail map leaves c off; the analyst's report draws the 3 moves
    assert not any(k.startswith("detail-map/") and v["labels"] == ["c"]
                   for k, v in page.items.items())
    analyst = Page(write_report(three_log, tmp_path / "a.html", disclosure="none")
                   .path.read_text(encoding="utf-8"))
    assert analyst.items[f"summary-map/{ids['Front door']}->{ids['Closed']}"]["labels"] == ["3"]


def test_the_protected_dot_draws_c_at_the_suppressed_width(three_log):
    result = process_map(three_log, level="detail")
    shown = ProtectedMap.of(result, STANDARD)
    assert shown.edges[(R, C)].count == "c" and shown.edges[(R, C)].median_days == "c"
    assert shown.edges[(R, A)].count == 20
    dot = to_dot(result, shown=shown)
    ids = ids_of(result)
    line = next(x for x in dot.splitlines() if x.strip().startswith(f"{ids[R]} -> {ids[C]} "))
    assert 'label="c"' in line and "penwidth=1.0" in line and f'color="{HIDDEN}"' in line
    assert not [t for t in re.findall(r'tooltip="([^"]*)"', dot) if re.search(r"\d", t)]
    as_at = [three_log.as_at]
    assert sdc.check_text(dot, STANDARD, kind="dot", allowed_dates=as_at) == []
    assert sdc.check_text(render(dot, "svg").decode(), STANDARD, kind="svg",
                          allowed_dates=as_at) == []


def test_the_analyst_layout_is_unchanged_without_protection(three_log):
    result = process_map(three_log)
    assert to_dot(result) == to_dot(result, shown=None)
    assert 'label="Referral\\n23 children"' in to_dot(result)


def test_a_simplified_strict_map_keeps_its_sums_honest(samples_log):
    """Simplification leaves lines off, so a box no longer equals the lines drawn into it; a
    c in such a sum gets an unlabelled stub, or the checker would "work it out" wrongly."""
    full = process_map(samples_log, level="detail")
    shown = ProtectedMap.of(full, STRICT)
    dot = to_dot(simplify(full, paths=60), shown=shown)
    assert re.search(r"^  n\d+[io] \[", dot, re.M)  # some stubs were needed
    assert sdc.check_text(dot, STRICT, kind="dot") == []
    assert sdc.check_text(render(dot, "svg").decode(), STRICT, kind="svg") == []


def test_a_protected_map_refuses_a_simplified_one(samples_log):
    with pytest.raises(ValueError, match="whole map"):
        ProtectedMap.of(process_map(samples_log, paths=50), STANDARD)


def test_a_hidden_count_gets_no_bar():
    chart = volume_chart([Tick("Apr", 2024), Tick("May", None)], [12, "c"], ["c", 0],
                         description="Front door")
    assert len(chart.bars) == 1  # only the 12
    assert sorted(label.text for label in chart.labels if label.kind == "count") == ["12", "c", "c"]


# ---------------------------------------------------------------------------------------
# The samples' report


@pytest.fixture(scope="module")
def samples_log() -> EventLog:
    if not sample_inputs(SAMPLES):
        pytest.skip("the committed samples folder is missing")
    log, _ = build_event_log(sample_inputs(SAMPLES))
    return log


@pytest.fixture(scope="module")
def reports(samples_log, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    return {level: write_report(samples_log, folder / f"{level}.html", disclosure=level).path
            for level in sdc.LEVELS}


def test_every_level_writes_a_checked_page(reports, samples_log):
    for level, path in reports.items():
        policy = Policy.from_name(level)
        guard = Guard.for_log(samples_log, policy)
        guard.file(path, "html")  # raises if anything slipped through
        text = html.unescape(path.read_text(encoding="utf-8"))
        assert policy.describe() in text
        assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_the_csp_forbids_loading_anything(reports):
    for path in reports.values():
        metas = [a for t, a in Page(path.read_text(encoding="utf-8")).tags if t == "meta"]
        policy = [m for m in metas if m.get("http-equiv") == "Content-Security-Policy"]
        assert [m["content"] for m in policy] == [CSP]


def test_nothing_points_outside_the_file(reports):
    for path in reports.values():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text
        assert "<script" not in text.lower() and "@import" not in text
        assert not re.search(r"url\(\s*['\"]?(?!#|data:)", text)
        for tag, attrs in Page(text).tags:
            assert tag not in ("script", "link", "img", "iframe", "object", "embed")
            for name, value in attrs.items():
                assert not name.startswith("on")
                if name in ("src", "href", "xlink:href"):
                    assert value.startswith("#"), (tag, name)


def test_no_input_child_id_appears_in_any_report(reports, samples_log):
    ids = set(samples_log.frame[CASE].astype(str))
    assert len(ids) > 100
    for path in reports.values():
        tokens = set(re.findall(r"[0-9A-Za-z]+", path.read_text(encoding="utf-8")))
        assert not ids & tokens


def test_a_strict_report_shows_only_c_zero_or_multiples_of_five_from_ten(reports):
    positions = sdc.count_positions(reports["strict"].read_text(encoding="utf-8"), "html")
    assert len(positions) > 100
    for p in positions:
        if p.text in ("c", "0"):
            continue
        n = int(p.text.replace(",", ""))
        assert n >= 10 and n % 5 == 0, (p.where, p.text)


def test_a_strict_report_has_no_day_level_date(reports):
    text = reports["strict"].read_text(encoding="utf-8")
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep"
                         r"|Oct|Nov|Dec) \d{4}\b", text)
    assert "Mar 2025" in text


def test_a_standard_report_hides_one_to_five(reports):
    positions = sdc.count_positions(reports["standard"].read_text(encoding="utf-8"), "html")
    shown = [int(p.text.replace(",", "")) for p in positions if p.text not in ("c", "0")]
    assert min(shown) >= 6
    assert any(p.text == "c" for p in positions)


def test_the_same_log_gives_the_same_bytes(samples_log, reports, tmp_path):
    again = write_report(samples_log, tmp_path / "again.html").path
    assert again.read_bytes() == reports["standard"].read_bytes()


@pytest.mark.parametrize("tamper, rule", [
    (lambda text, ids: text.replace("<h2>At a glance</h2>",
                                    "<h2>At a glance</h2><p><span>3</span> children</p>", 1),
     "SMALL_COUNT"),
    (lambda text, ids: text.replace("</main>", f"<p>Case {sorted(ids)[7]}</p></main>", 1),
     "CHILD_ID"),
    (lambda text, ids: text.replace("</main>", '<img src="https://example.org/p.png"></main>', 1),
     "EXTERNAL"),
    (lambda text, ids: text.replace("</main>", "<p>since 2024-06-13</p></main>", 1), "DATE"),
])
def test_the_checker_catches_a_tampered_report(reports, samples_log, tmp_path, tamper, rule):
    ids = set(samples_log.frame[CASE].astype(str))
    tampered = tmp_path / "tampered.html"
    tampered.write_text(tamper(reports["standard"].read_text(encoding="utf-8"), ids),
                        encoding="utf-8")
    with pytest.raises(DisclosureError) as caught:
        Guard.for_log(samples_log, STANDARD).file(tampered, "html")
    assert rule in {f.rule for f in caught.value.findings}


def test_a_report_that_fails_the_check_is_never_written(three_log, tmp_path, monkeypatch):
    """The checker runs on the temporary file: a failure leaves nothing under either name."""
    import cscmining.report as report

    real = report.report_context

    def leaky(*args, **kwargs):
        context = real(*args, **kwargs)
        context["window"] = "child0007"  # an input child id, printed in the page
        return context

    monkeypatch.setattr(report, "report_context", leaky)
    with pytest.raises(DisclosureError, match="an input child id"):
        write_report(three_log, tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------
# Hostile labels


SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=1>'


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    vocabulary = load_vocabulary().with_activities([
        Activity(name=SCRIPT, order=45, group=IMG),
        Activity(name=IMG, order=46, group=SCRIPT),
    ])
    records = journeys([(12, [R, SCRIPT, IMG, A, AA, C]), (8, [R, IMG, C])])
    log = from_records(records, as_at="2024-12-31", vocabulary=vocabulary)
    folder = tmp_path_factory.mktemp("hostile")
    return write_report(log, folder / "hostile.html", disclosure="none").path


def test_hostile_activity_names_are_shown_as_text(hostile_report):
    text = hostile_report.read_text(encoding="utf-8")
    tags = Page(text).tags
    assert not [t for t, _ in tags if t in ("script", "img")]
    assert not [n for _, attrs in tags for n in attrs if n.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=1&gt;" in text
    # the maps, the variants and the volumes all name them
    for section in ("summary-map", "detail-map", "variants", "volumes"):
        chunk = text.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert "alert(1)" in chunk, section


def test_an_svg_with_anything_but_drawing_is_refused():
    clean = '<svg viewBox="0 0 1 1"><g id="a"><text x="0">ok</text></g></svg>'
    assert 'id="m-a"' in inline_svg(clean, prefix="m")
    for bad in ('<svg><script>alert(1)</script></svg>', '<svg><a href="x"><text>t</text></a></svg>',
                '<svg><g onclick="x"></g></svg>', '<svg><image xlink:href="p.png"/></svg>',
                '<svg><path fill="url(http://x/y)"/></svg>', '<svg><foreignObject/></svg>'):
        with pytest.raises(RenderError):
            inline_svg(bad, prefix="m")


# ---------------------------------------------------------------------------------------
# The data-quality appendix: rejection reasons and flags, protected, with what they mean


def _quality_section(page: str) -> str:
    return page.split('<section id="quality">', 1)[1].split("</section>", 1)[0]


def _table_after(section: str, heading: str) -> list[list[str]]:
    """The body rows of the table under ``heading``, as cell texts."""
    table = section.split(f"<h3>{heading}</h3>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>", 1)[1], re.DOTALL)
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]


@pytest.mark.parametrize("level, overlap, zero, weird", [
    ("none", "7", "3", "12"),        # every number as it is
    ("standard", "7", "c", "12"),    # 3 is c; no secondary suppression, no rounding
    ("strict", "c", "c", "10"),      # under 10 is c, the rest to the nearest 5
])
def test_the_appendix_lists_flags_with_protected_counts(three_log, tmp_path, level, overlap,
                                                         zero, weird):
    """Two tables of one file: 40 rows read, 30 used, 10 rejected (8 DATE_MISSING, 2
    ID_MISSING); flagged among the used: OVERLAP 7 (5 + 2 over the tables), ZERO_DURATION
    3, and 12 of a logmap's own check, LOCAL_CHECK, described as such."""
    from collections import Counter
    from dataclasses import replace

    from cscmining.accounting import TableAccount
    from cscmining.render.quality import CODES

    accounts = [
        TableAccount(path="in/episodes.csv", source="ssda903", table="episodes", rows_read=25,
                     used=20, rejected=Counter({"DATE_MISSING": 5}),
                     flags=Counter({"OVERLAP": 5, "ZERO_DURATION": 3, "LOCAL_CHECK": 12})),
        TableAccount(path="in/header.csv", source="ssda903", table="header", rows_read=15,
                     used=10, rejected=Counter({"DATE_MISSING": 3, "ID_MISSING": 2}),
                     flags=Counter({"OVERLAP": 2})),
    ]
    log = replace(three_log, accounts=accounts)
    out = tmp_path / "r.html"
    write_report(log, out, disclosure=level)  # the checker passes the page
    section = _quality_section(out.read_text(encoding="utf-8"))
    assert _table_after(section, "Rows used despite a problem, by flag") == [
        ["LOCAL_CHECK", weird, "a check declared in the logmap (see its checks)"],
        ["OVERLAP", overlap, CODES["OVERLAP"]],
        ["ZERO_DURATION", zero, CODES["ZERO_DURATION"]],
    ]
    reasons = _table_after(section, "Rejected rows by reason")
    assert [r[0] for r in reasons] == ["DATE_MISSING", "ID_MISSING", "Total"]
    assert reasons[0][2] == "a date the event needs is blank" and reasons[-1][2] == ""


def test_every_code_the_tool_counts_is_described():
    """A code added to a reader or a logmap without a description fails here."""
    from cscmining import codes, dates
    from cscmining.logmap import CHECK_FLAGS, shipped_logmaps
    from cscmining.render.quality import CODES
    from cscmining.sources import engine, tabular

    constants = {v for module in (codes, dates, engine, tabular)
                 for k, v in vars(module).items()
                 if k.isupper() and isinstance(v, str) and re.fullmatch(r"[A-Z]+(_[A-Z]+)+", v)
                 and v == k}
    declared = {check.code for logmap in shipped_logmaps().values()
                for table in logmap.tables for check in table.checks}
    assert {"DATE_BEFORE_DOB", "ID_FROM_NUMBER", "ROW_SHAPE", "DEC_REC_MISMATCH"} <= \
        constants | declared
    assert not (constants | declared | set(CHECK_FLAGS.values())) - set(CODES)
