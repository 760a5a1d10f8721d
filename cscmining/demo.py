"""The main job, end to end, on the bundled synthetic samples: what ``cscmining demo`` runs.

It is also the recipe an analyst follows on real returns: ingest, maps at summary and
detail level, variants, bottlenecks, stuck children and timescale trends, each written to
one folder, and the workshop report that brings them together at the ``standard``
disclosure level (`cscmining.report`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discover import BottleneckReport, MapResult, bottlenecks, process_map
from .errors import UsageError
from .eventlog import EventLog, write_event_log
from .ingest import build_event_log
from .outputs import write_text
from .render.dot import write_map
from .report import ReportResult, write_report
from .samples import write_samples
from .sources import DATA_SUFFIXES
from .timescales import StuckResult, TrendResult, stuck, timescale_trend
from .variants import VariantsResult, variants

#: the sample folder holds the same data again in other formats; the demo reads it once
ALTERNATIVE_FORMATS = "alternative_formats"


@dataclass
class DemoResult:
    log: EventLog
    summary_map: MapResult
    variants: VariantsResult
    bottlenecks: BottleneckReport
    stuck: StuckResult
    trend: TrendResult
    report: ReportResult
    written: list[Path] = field(default_factory=list)


def sample_inputs(samples: Path) -> list[Path]:
    """The returns in a samples folder, without the copies in other formats."""
    if not samples.is_dir():
        return []
    return sorted(
        p for p in samples.iterdir()
        if p.name != ALTERNATIVE_FORMATS and not p.name.startswith(".")
        and (p.is_dir() or p.suffix.lower() in DATA_SUFFIXES)
    )


def run_demo(
    samples: Path, out: Path, *, progress: Callable[[str], None] | None = None, quiet: bool = True,
) -> DemoResult:
    """Run the main job on ``samples`` (made afresh, seeded, if the folder has none) into
    ``out``; ``progress`` and ``quiet`` as for `ingest.build_event_log`."""
    say = progress or (lambda _m: None)
    inputs = sample_inputs(samples)
    if not inputs:
        say(f"no samples in {samples}: writing the default synthetic set there")
        write_samples(samples)
        inputs = sample_inputs(samples)
        if not inputs:
            raise UsageError(f"{samples}: no sample returns could be written")

    log, _ = build_event_log(inputs, progress=say, quiet=quiet)
    written = [write_event_log(log, out / "event_log.parquet")]
    written.append(_json(out / "data_quality.json", {
        "events": log.events, "cases": log.cases, "as_at": log.as_at.isoformat(),
        "same_day_ties": log.same_day_ties, "merged": log.merged,
        "files": [a.to_dict() for a in log.accounts],
    }))

    say("drawing the maps")
    summary = process_map(log, level="summary")
    detail = process_map(log, level="detail", paths=60)
    written.append(write_map(summary, out / "map_summary.svg"))
    written.append(write_map(detail, out / "map_detail.svg"))
    written.append(write_map(detail, out / "map_detail_performance.svg", metric="performance"))
    written.append(_json(out / "map_detail.json", process_map(log, level="detail").to_dict()))

    say("variants, bottlenecks, stuck journeys and timescales")
    found = variants(log, top=10)
    ranked = bottlenecks(log, level="detail")
    stuck_now = stuck(log)
    trend = timescale_trend(log, by="quarter")
    written.append(_json(out / "variants.json", found.to_dict()))
    written.append(_json(out / "bottlenecks.json", ranked.to_dict()))
    written.append(_json(out / "timescales.json", trend.to_dict()))
    # children stuck per rule: counts only, so the file carries no child's identifier
    written.append(_json(out / "stuck_by_rule.json", {
        "as_at": stuck_now.as_at.isoformat(), "children": stuck_now.children,
        "any_rule": stuck_now.total_children,
    }))

    say("writing the workshop report")
    report = write_report(log, out / "report.html")
    written.append(report.path)
    return DemoResult(log, summary, found, ranked, stuck_now, trend, report, written)


def _json(path: Path, payload: dict[str, Any]) -> Path:
    return write_text(path, json.dumps(payload, indent=2) + "\n")
