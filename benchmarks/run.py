"""Measure cscmining against the plain pm4py pipeline and DuckDB, check the numbers agree,
and write ``benchmarks/RESULTS.md``.

Every command runs as its own process under ``/usr/bin/time -v`` (start-up, imports, reading
the log and printing the JSON included): wall time is the median of ``--repeat`` runs, peak
memory the largest resident set size of those runs. Data is made (seeded) by ``generate.py``
under ``benchmarks/data`` on first use and reused afterwards.

    python benchmarks/run.py --sizes 100k,1m,10m --repeat 3
    python benchmarks/run.py --sizes 10m --include-100m
    python benchmarks/run.py --sizes 1m --profile        # pyinstrument + importtime at 1m

See ``benchmarks/README.md`` for what each number means and the targets it is held to.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import references  # noqa: E402

PYTHON = sys.executable
#: where the measured cscmining is imported from (`--code`); set in `main`
CODE = ROOT
TIME = shutil.which("time") or "/usr/bin/time"
GIB = 1024**3
#: statutory returns: `cscmining.samples` gives about 5 events per child once ingested
EVENTS_PER_SAMPLE_CHILD = 5
#: the sizes statutory samples are written for by default (write_samples takes ~2 min per
#: 200 k children; 10 M events would need ~2 M children)
STATUTORY_SIZES = ("100k", "1m")

ANALYSES = ("map", "variants", "stuck")
DUCK = {"map": "duckdb-map", "variants": "duckdb-variants", "stuck": "duckdb-stuck"}


def say(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# Running one command


@dataclass
class Measure:
    """Runs of one command at one size."""

    name: str
    size: str
    walls: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)  # bytes
    cpu: list[float] = field(default_factory=list)  # user + system seconds
    loads: list[float] = field(default_factory=list)  # 1-minute load average before each run
    failed: str | None = None
    output: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed is None and bool(self.walls)

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls else None

    @property
    def peak(self) -> int | None:
        return max(self.rss) if self.rss else None

    @property
    def cpu_time(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    @property
    def load(self) -> float | None:
        return max(self.loads) if self.loads else None


def _time_v(report: Path) -> tuple[int, float]:
    """Peak RSS in bytes and CPU seconds (user + system) from a ``/usr/bin/time -v`` report."""
    text = report.read_text(errors="replace")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    return (int(found.group(1)) * 1024 if found else 0), cpu


@dataclass
class Job:
    """One command to time: how to run it and the runs so far."""

    measure: Measure
    argv: list[str]
    repeat: int
    #: files or folders the command writes: removed before each run (cscmining refuses to
    #: replace an existing output without --force, and a run must not reuse the last one's)
    outputs: list[Path] = field(default_factory=list)


def run_once(job: Job, *, timeout: float, once_above: float) -> None:
    """One more run of ``job`` unless it is done (enough runs, a failure, or a first run
    slower than ``once_above`` s, which is then its only run)."""
    result = job.measure
    if result.failed or len(result.walls) >= job.repeat or \
            (result.walls and result.walls[0] > once_above):
        return
    out = result.output
    assert out is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    report = out.with_suffix(".time")
    errors = out.with_suffix(".stderr")
    env = _env()
    _clear(job.outputs)
    result.loads.append(os.getloadavg()[0])
    started = time.perf_counter()
    try:
        with out.open("wb") as stdout, errors.open("wb") as stderr:
            proc = subprocess.run([TIME, "-v", "-o", str(report), *job.argv], stdout=stdout,
                                  stderr=stderr, cwd=CODE, env=env, timeout=timeout,
                                  check=False)
    except subprocess.TimeoutExpired:
        result.failed = f"timeout > {timeout:.0f} s"
        say(f"  {result.name} {result.size}: timed out after {timeout:.0f} s")
        return
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = errors.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        result.failed = f"exit {proc.returncode}: {tail[0][:160]}"
        say(f"  {result.name} {result.size}: failed ({result.failed})")
        return
    rss, cpu = _time_v(report)
    result.walls.append(wall)
    result.rss.append(rss)
    result.cpu.append(cpu)
    say(f"  {result.name} {result.size}: run {len(result.walls)}: {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU, {rss / 2**20:,.0f} MiB (load {result.loads[-1]:.1f})")


def _env() -> dict[str, str]:
    """The measured code first on the path; the references read its stage vocabulary."""
    return {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(CODE),
            "CSCMINING_BENCH_STAGES": str(CODE / "logmaps" / "stages.yaml")}


def prepare_code(rev: str, data: Path) -> Path:
    """``worktree``: the checkout as it is; otherwise a snapshot of ``rev``'s cscmining/ and
    logmaps/ under ``data`` (so edits made while the benchmark runs do not change what it
    measures)."""
    if rev == "worktree":
        return ROOT
    commit = subprocess.run(["git", "rev-parse", "--short=10", rev], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    dest = data / f"code_{commit}"
    if not (dest / "cscmining" / "__init__.py").exists():
        tmp = data / f"code_{commit}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit, "cscmining", "logmaps"], cwd=ROOT,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        tmp.rename(dest)
    # byte-compile once, as an installed package is: with PYTHONDONTWRITEBYTECODE set, every
    # run would otherwise compile cscmining's modules from source again
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(dest / "cscmining")], check=True)
    return dest


def _clear(paths: list[Path]) -> None:
    """Remove output files or folders a command is about to write."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def code_fingerprint() -> str:
    """A short hash of the measured cscmining source and logmaps."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(CODE / "cscmining").rglob("*.py"), *(CODE / "logmaps").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(CODE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cscmining(*args: str) -> list[str]:
    return [PYTHON, "-m", "cscmining", "-q", *args]


def reference(command: str, log: Path) -> list[str]:
    return [PYTHON, str(HERE / "references.py"), command, str(log)]


def has_command(name: str) -> bool:
    proc = subprocess.run(cscmining(name, "--help"), capture_output=True, cwd=CODE, env=_env(),
                          check=False)
    return proc.returncode == 0


# ---------------------------------------------------------------------------------------
# Data


def ensure_log(data: Path, size: str, regenerate: bool) -> tuple[Path, dict[str, Any]]:
    path = data / f"log_{size}.parquet"
    if regenerate or not path.exists():
        say(f"generating the {size} event log")
        generate.event_log(path, events=generate.parse_size(size))
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(path).metadata[b"cscmining"])
    return path, {"events": meta["events"], "cases": meta["cases"],
                  "bytes": path.stat().st_size}


def ensure_statutory(data: Path, size: str) -> Path:
    folder = data / f"statutory_{size}"
    if not (folder / "README.md").exists():
        children = generate.parse_size(size) // EVENTS_PER_SAMPLE_CHILD
        generate.statutory(folder, children=children)
    return folder


def statutory_inputs(folder: Path) -> list[Path]:
    return [folder / "cin_census_2025.xml", folder / "ssda903_2025", folder / "annex_a_2025.xlsx"]


def ensure_ssda903(data: Path, size: str, base: Path) -> Path:
    folder = data / f"ssda903_{size}"
    if not (folder / "episodes.csv").exists():
        generate.ssda903_csv(folder, base=base, episodes=generate.parse_size(size))
    return folder


def _input_rows(ingest_json: Path) -> int | None:
    try:
        payload = json.loads(ingest_json.read_text())
    except (OSError, ValueError):
        return None
    return sum(f["rows_read"] for f in payload["files"])


# ---------------------------------------------------------------------------------------
# The run


@dataclass
class SizeResult:
    size: str
    log: dict[str, Any] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    checks: dict[str, list[str] | None] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pm4py_steps: dict[str, float] = field(default_factory=dict)
    code: list[str] = field(default_factory=list)  # code fingerprint before and after


def run_size(size: str, args: argparse.Namespace, report_available: bool) -> SizeResult:
    """Time every command at ``size``, in rounds: round *i* runs each command once, so the
    commands and their references share whatever else the machine is doing."""
    data, out = args.data, args.data / "out" / size
    result = SizeResult(size)
    log, result.log = ensure_log(data, size, args.regenerate)
    say(f"{size}: {result.log['events']:,} events, {result.log['cases']:,} children")
    analyses_only = size == "100m"
    jobs: list[Job] = []

    def job(name: str, argv: list[str], repeat: int | None = None) -> Measure:
        m = Measure(name, size, output=out / f"{name.replace(' ', '_')}.json")
        result.measures[name] = m
        written = [Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a in ("-o", "--output")]
        jobs.append(Job(m, argv, args.repeat if repeat is None else repeat, written))
        return m

    # ingest from statutory files, and the demo on them
    if not analyses_only and size in args.ingest_sizes:
        statutory = ensure_statutory(data, size)
        job("ingest returns", cscmining("ingest", *map(str, statutory_inputs(statutory)),
                                        "-o", str(out / "ingest_returns.parquet"), "--json"))
        xml = statutory / "cin_census_2025.xml"
        job("ingest CIN XML", cscmining("ingest", str(xml), "-o",
                                        str(out / "ingest_cin.parquet"), "--json"))
        result.measures["ingest CIN XML"].extra["xml_bytes"] = xml.stat().st_size
        s903 = ensure_ssda903(data, size, statutory / "ssda903_2025")
        job("ingest 903 CSV", cscmining("ingest", str(s903), "-o",
                                        str(out / "ingest_903.parquet"), "--json"))
        with (s903 / "episodes.csv").open(encoding="utf-8-sig") as fh:
            result.measures["ingest 903 CSV"].extra["episodes"] = sum(1 for _ in fh) - 1
        if size in STATUTORY_SIZES:
            job("demo", cscmining("demo", "--samples", str(statutory), "-o", str(out / "demo")))

    # the analyses and the references, on the same log
    for name in ANALYSES:
        job(name, cscmining(name, str(log), "--json"))
    if report_available and not analyses_only:
        job("report", cscmining("report", str(log), "-o", str(out / "report.html")))
    for name in ANALYSES:
        job(DUCK[name], reference(DUCK[name], log), repeat=1 if analyses_only else None)
    if not analyses_only:
        job("pm4py pipeline", reference("pm4py", log), repeat=args.pm4py_repeat)

    if args.only:
        jobs = [j for j in jobs if _key(j.measure.name) in args.only]
        result.measures = {j.measure.name: j.measure for j in jobs}
    if not jobs:
        say(f"{size}: nothing to run (--only {','.join(sorted(args.only))})")
        return result
    result.code = [code_fingerprint()]
    for _ in range(max(j.repeat for j in jobs)):
        for j in jobs:
            run_once(j, timeout=args.timeout, once_above=args.once_above)
    result.code.append(code_fingerprint())
    if result.code[0] != result.code[1]:
        say(f"{size}: WARNING: cscmining's source changed while this size was measured")

    for name in ("ingest returns", "ingest CIN XML", "ingest 903 CSV"):
        m = result.measures.get(name)
        if m is not None and m.ok:
            m.extra["rows"] = _input_rows(m.output)  # type: ignore[arg-type]
            try:
                m.extra["events"] = json.loads(m.output.read_text())["events"]  # type: ignore[union-attr]
            except (OSError, ValueError, KeyError):
                pass
    pm = result.measures.get("pm4py pipeline")
    if pm is not None and pm.ok:
        result.pm4py_steps = json.loads(pm.output.read_text())["timings"]  # type: ignore[union-attr]
    result.checks = check(result)
    for name, problems in result.checks.items():
        state = "skipped" if problems is None else ("equal" if not problems else "DIFFER")
        say(f"{size}: check {name}: {state}" + (f": {problems[:3]}" if problems else ""))
    return result


def _key(name: str) -> str:
    """A command's name as ``--only`` spells it: ``ingest 903 CSV`` → ``ingest_903_csv``."""
    return name.replace(" ", "_").lower()


def _load(m: Measure | None) -> dict[str, Any] | None:
    if m is None or not m.ok or m.output is None:
        return None
    try:
        return json.loads(m.output.read_text())
    except ValueError:
        return None


def check(result: SizeResult) -> dict[str, list[str] | None]:
    """cscmining's JSON against DuckDB and pm4py; None where a side did not run."""
    got = {name: _load(m) for name, m in result.measures.items()}
    checks: dict[str, list[str] | None] = {}

    def pair(label: str, ours: str, ref: str, compare) -> None:
        a, b = got.get(ours), got.get(ref)
        checks[label] = None if a is None or b is None else compare(a, b)

    pair("map = DuckDB", "map", "duckdb-map", references.compare_map)
    pair("variants = DuckDB", "variants", "duckdb-variants", references.compare_variants)
    pair("stuck = DuckDB", "stuck", "duckdb-stuck", references.compare_stuck)
    pm = got.get("pm4py pipeline")
    if pm is None:
        checks["map = pm4py DFG"] = checks["variants = pm4py get_variants"] = None
    else:
        m, v = got.get("map"), got.get("variants")
        checks["map = pm4py DFG"] = None if m is None else references.compare_pm4py(m, None, pm)
        checks["variants = pm4py get_variants"] = None if v is None else \
            references.compare_pm4py(None, v, pm)
        duck_v = got.get("duckdb-variants")
        if duck_v is not None:
            a, b = pm["case_durations"]["sum_days"], duck_v["case_days"]
            checks["case durations: pm4py = DuckDB"] = [] if references._close(a, b) else \
                [f"sum of case durations {a} vs {b} days"]
    return checks


# ---------------------------------------------------------------------------------------
# Targets


@dataclass
class Target:
    text: str
    measured: str
    passed: bool | None  # None: not measured in this run
    cpu: str = ""  # the same measure on CPU time (user + system), where it applies


#: the ingest rows/s target is judged on inputs of at least this many rows (see `write_results`)
INGEST_JUDGED_FROM = 1_000_000


def targets(results: dict[str, SizeResult]) -> list[Target]:
    out: list[Target] = []

    def wall(size: str, name: str) -> float | None:
        r = results.get(size)
        m = r.measures.get(name) if r else None
        return m.wall if m and m.ok else None

    def peak(size: str, name: str) -> int | None:
        r = results.get(size)
        m = r.measures.get(name) if r else None
        return m.peak if m and m.ok else None

    def cpu(size: str, name: str) -> float | None:
        r = results.get(size)
        m = r.measures.get(name) if r else None
        return m.cpu_time if m and m.ok else None

    def fmt(v: float | None, unit: str = " s") -> str:
        return "not measured" if v is None else f"{v:.2f}{unit}"

    def cfmt(v: float | None) -> str:
        return "" if v is None else f"{v:.2f} s"

    def ratio_of(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    for name in ANALYSES:
        w = wall("1m", name)
        out.append(Target(f"1M: `{name} --json` ≤ 3 s", fmt(w), None if w is None else w <= 3,
                          cfmt(cpu("1m", name))))
    w = wall("1m", "demo")
    out.append(Target("1M: `demo` on samples of that size ≤ 20 s", fmt(w),
                      None if w is None else w <= 20, cfmt(cpu("1m", "demo"))))
    for name in ANALYSES:
        w = wall("10m", name)
        out.append(Target(f"10M: `{name} --json` ≤ 3 s", fmt(w), None if w is None else w <= 3,
                          cfmt(cpu("10m", name))))
    for name in ANALYSES:
        ratio = ratio_of(wall("10m", name), wall("10m", DUCK[name]))
        c = ratio_of(cpu("10m", name), cpu("10m", DUCK[name]))
        out.append(Target(f"10M: `{name}` ≤ 0.75 × DuckDB `{DUCK[name]}`",
                          "not measured" if ratio is None else f"{ratio:.2f}×",
                          None if ratio is None else ratio <= 0.75,
                          "" if c is None else f"{c:.2f}×"))
    walls = [wall("10m", n) for n in ANALYSES]
    pm = wall("10m", "pm4py pipeline")
    if None in walls or pm is None:
        out.append(Target("10M: map + variants + stuck ≤ 1/6 of the pm4py pipeline",
                          "not measured", None))
    else:
        share = sum(walls) / pm  # type: ignore[arg-type]
        cpus = [cpu("10m", n) for n in ANALYSES]
        pm_cpu = cpu("10m", "pm4py pipeline")
        cpu_share = "" if None in cpus or not pm_cpu else \
            f"{sum(cpus):.1f} s / {pm_cpu:.1f} s = {sum(cpus) / pm_cpu:.2f}"  # type: ignore[arg-type]
        out.append(Target("10M: map + variants + stuck ≤ 1/6 of the pm4py pipeline",
                          f"{sum(walls):.1f} s / {pm:.1f} s = {share:.2f} (1/6 = 0.17)",  # type: ignore[arg-type]
                          share <= 1 / 6, cpu_share))
    for name in ANALYSES:
        p = peak("10m", name)
        out.append(Target(f"10M: `{name}` peak memory ≤ 1.5 GiB",
                          fmt(None if p is None else p / GIB, " GiB"),
                          None if p is None else p <= 1.5 * GIB))
    for name in ANALYSES:
        ratio = ratio_of(wall("10m", name), wall("1m", name))
        c = ratio_of(cpu("10m", name), cpu("1m", name))
        out.append(Target(f"`{name}` wall 10M / 1M ≤ 11",
                          "not measured" if ratio is None else f"{ratio:.1f}",
                          None if ratio is None else ratio <= 11,
                          "" if c is None else f"{c:.1f}"))
    for size, r in results.items():
        m = r.measures.get("ingest 903 CSV")
        if m and m.ok and m.extra.get("rows"):
            rate = m.extra["rows"] / m.wall  # type: ignore[operator]
            # below ~1 M rows the budget (rows / 500 k s) is about the start-up of any Python
            # process with pandas and pyarrow: reported, judged only where it measures ingest
            judged = m.extra["rows"] >= INGEST_JUDGED_FROM
            out.append(Target(f"{size}: `ingest` of SSDA903 CSV returns ≥ 500 k input rows/s "
                              f"({m.extra['rows']:,} rows, episodes.csv {m.extra['episodes']:,})",
                              f"{rate / 1000:,.0f} k rows/s", rate >= 500_000 if judged else None))
    xml = [(s, r.measures["ingest CIN XML"]) for s, r in results.items()
           if "ingest CIN XML" in r.measures and r.measures["ingest CIN XML"].ok]
    if len(xml) >= 2:
        (s1, a), (s2, b) = xml[0], xml[-1]
        grow_rss = (b.peak - a.peak) / 2**20  # type: ignore[operator]
        grow_xml = (b.extra["xml_bytes"] - a.extra["xml_bytes"]) / 2**20
        events = ""
        if a.extra.get("events") and b.extra.get("events"):
            events = f" and +{b.extra['events'] - a.extra['events']:,} events held"
        # not judged: the events ingest builds stay in memory, so peak memory cannot be flat;
        # whether the XML itself is streamed shows in how the growth compares with the file
        out.append(Target(f"CIN XML streamed (memory flat), {s1} → {s2}",
                          f"+{grow_rss:,.0f} MiB peak RSS for +{grow_xml:,.0f} MiB of XML"
                          f"{events}", None))
    else:
        out.append(Target("CIN XML streamed (memory flat)", "not measured", None))
    for name in ANALYSES:
        w, p = wall("100m", name), peak("100m", name)
        out.append(Target(f"100M: `{name}` ≤ 60 s and ≤ 8 GiB",
                          "not measured" if w is None else f"{w:.1f} s, {p / GIB:.2f} GiB",  # type: ignore[operator]
                          None if w is None else (w <= 60 and p <= 8 * GIB)))  # type: ignore[operator]
    return out


# ---------------------------------------------------------------------------------------
# RESULTS.md


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": mem,
            "os": f"{platform.system()} {platform.release()}"}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("cscmining", "pandas", "pyarrow", "pm4py", "duckdb", "numpy", "holidays"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    if CODE == ROOT:
        head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cscmining", "logmaps"],
                               cwd=ROOT, capture_output=True, text=True,
                               check=False).stdout.strip()
        found["code measured"] = "the work tree at " + head + \
            (" with uncommitted changes to cscmining/" if dirty else "")
    else:
        found["code measured"] = "commit " + CODE.name.removeprefix("code_")
    return found


def _s(v: float | None) -> str:
    return "–" if v is None else (f"{v:.2f}" if v < 100 else f"{v:.0f}")


def _mib(v: int | None) -> str:
    return "–" if v is None else f"{v / 2**20:,.0f}"


def _cell(m: Measure | None) -> tuple[str, str, str, str, str]:
    """wall, peak MiB, runs, CPU s, load."""
    if m is None:
        return "–", "–", "–", "–", "–"
    load = "–" if m.load is None else f"{m.load:.1f}"
    if not m.ok:
        return f"**{m.failed}**", "–", "0", "–", load
    return _s(m.wall), _mib(m.peak), str(len(m.walls)), _s(m.cpu_time), load


def write_results(path: Path, results: dict[str, SizeResult], args: argparse.Namespace,
                  started: float, report_available: bool) -> None:
    mach, vers = machine(), versions()
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run.py {' '.join(sys.argv[1:])}` on "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} "
        f"(whole run {(time.perf_counter() - started) / 60:.0f} min). "
        "Every number below was measured in that run; see `benchmarks/README.md` for what "
        "each one means.",
        "",
        "## Machine and versions",
        "",
        f"- {mach['cpu']}, {mach['cores']} cores, {mach['ram']} RAM, {mach['os']}",
        "- " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
        "## Logs",
        "",
        "| size | events | children | Parquet MiB | code measured (source hash before → after) |",
        "|---|---:|---:|---:|---|",
    ]
    for size, r in results.items():
        code = " → ".join(r.code) if len(set(r.code)) > 1 else (r.code[0] if r.code else "?")
        lines.append(f"| {size} | {r.log['events']:,} | {r.log['cases']:,} | "
                     f"{r.log['bytes'] / 2**20:,.1f} | {code} |")
    lines += [
        "",
        f"## Wall time and peak memory (median of up to {args.repeat} runs; one run when the "
        f"first took over {args.once_above:.0f} s)",
        "",
        "Each command is a separate process: start-up, imports, reading the log and writing "
        "the JSON to a file are included. *wall* and *CPU* (user + system, all threads) are "
        "medians, *peak* the largest resident set size of the runs, *load* the highest "
        "1-minute load average seen just before a run (this machine has "
        f"{os.cpu_count()} cores: a load above that means other work shared them and the "
        "wall times are inflated; CPU time is less affected).",
        "",
        "| size | command | wall s | CPU s | peak MiB | runs | load | DuckDB ref s | × DuckDB | "
        "pm4py pipeline s | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    order = ["ingest returns", "ingest CIN XML", "ingest 903 CSV", "demo", *ANALYSES, "report"]
    for size, r in results.items():
        pm = r.measures.get("pm4py pipeline")
        for name in order:
            m = r.measures.get(name)
            if m is None:
                continue
            wall, peak, runs, cpu, load = _cell(m)
            duck = r.measures.get(DUCK.get(name, ""))
            ratio = "–"
            if duck is not None and duck.ok and m.ok:
                ratio = f"{m.wall / duck.wall:.2f}"  # type: ignore[operator]
            notes = []
            if m.extra.get("rows") and m.ok:
                notes.append(f"{m.extra['rows']:,} input rows, "
                             f"{m.extra['rows'] / m.wall / 1000:,.0f} k rows/s")  # type: ignore[operator]
            if m.extra.get("xml_bytes"):
                notes.append(f"XML {m.extra['xml_bytes'] / 2**20:,.0f} MiB")
            pm_cell = _s(pm.wall) if (pm is not None and pm.ok and name in ANALYSES) else "–"
            lines.append(f"| {size} | `{name}` | {wall} | {cpu} | {peak} | {runs} | {load} | "
                         f"{_cell(duck)[0] if duck else '–'} | {ratio} | {pm_cell} | "
                         f"{'; '.join(notes)} |")
        for name in (*DUCK.values(), "pm4py pipeline"):
            m = r.measures.get(name)
            if m is None:
                continue
            wall, peak, runs, cpu, load = _cell(m)
            lines.append(f"| {size} | `{name}` (reference) | {wall} | {cpu} | {peak} | {runs} "
                         f"| {load} | – | – | – | |")
    if not report_available:
        lines += ["", "`report` is not measured: this build of cscmining has no `report` "
                  "command (`cscmining report --help` failed)."]

    steps = {s: r.pm4py_steps for s, r in results.items() if r.pm4py_steps}
    if steps:
        names = list(next(iter(steps.values())))
        lines += ["", "## The plain pm4py pipeline, step by step (seconds, last run)", "",
                  "| size | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * len(names)]
        for size, t in steps.items():
            lines.append(f"| {size} | " + " | ".join(f"{t.get(n, 0):.2f}" for n in names) + " |")

    lines += ["", "## Do cscmining's numbers equal the references?", "",
              "| size | check | result |", "|---|---|---|"]
    for size, r in results.items():
        for name, problems in r.checks.items():
            if problems is None:
                state = "not checked (a side did not run)"
            elif not problems:
                state = "equal"
            else:
                state = "**DIFFER**: " + "; ".join(problems[:3]).replace("|", "/")
            lines.append(f"| {size} | {name} | {state} |")

    found = targets(results)
    lines += ["", "## Targets (issue 6)", "",
              "Judged on wall time, as the targets are written. *on CPU time* is the same "
              "measure taken on user + system seconds instead: what the wall time would be "
              "without other load for a single-threaded command (DuckDB uses every core, so "
              "its CPU time exceeds its wall time when the machine is idle).", "",
              "| target | measured | result | on CPU time |", "|---|---|---|---|"]
    for t in found:
        if t.passed is None:
            state = "not measured" if t.measured == "not measured" else "not judged (below)"
        else:
            state = "PASS" if t.passed else "**FAIL**"
        lines.append(f"| {t.text} | {t.measured} | {state} | {t.cpu} |")
    lines += ["", f"*ingest* rows/s is judged from {INGEST_JUDGED_FROM:,} input rows up: on fewer, "
              "500 k rows/s leaves less than a second for the whole process, about what "
              "starting Python with pandas and pyarrow takes, so the figure measures start-up, "
              "not ingest.",
              "", "*CIN XML streamed* is reported, not judged: the reader parses the XML "
              "incrementally, but the events it builds stay in memory until the log is "
              "written, so peak memory grows with the data either way: read the growth "
              "against the file's size and the events held."]

    lines += ["", "## Reading", "", *reading(results, found)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    say(f"wrote {path}")


def reading(results: dict[str, SizeResult], found: list[Target]) -> list[str]:
    """A few sentences drawn from the numbers above (no number that is not in the tables)."""
    out = []
    measured = [t for t in found if t.passed is not None]
    passed = [t for t in measured if t.passed]
    unmeasured = [t for t in found if t.measured == "not measured"]
    out.append(f"- {len(passed)} of {len(measured)} judged targets pass; "
               f"{len(unmeasured)} were not measured in this run.")
    differ = [(s, n) for s, r in results.items() for n, p in r.checks.items() if p]
    unchecked = [(s, n) for s, r in results.items() for n, p in r.checks.items() if p is None]
    if differ:
        out.append("- Numbers differ from a reference: " +
                   ", ".join(f"{n} at {s}" for s, n in differ) + ".")
    else:
        out.append("- Wherever both sides ran, cscmining's numbers equal DuckDB's and pm4py's.")
    if unchecked:
        out.append("- Not checked (a side failed or did not run): " +
                   ", ".join(f"{n} at {s}" for s, n in unchecked) + ".")
    for size, r in results.items():
        ours = [(n, r.measures[n]) for n in ANALYSES if n in r.measures and r.measures[n].ok]
        if not ours:
            continue
        slowest = max(ours, key=lambda p: p[1].wall)  # type: ignore[arg-type,return-value]
        duck = r.measures.get(DUCK[slowest[0]])
        rel = ""
        if duck is not None and duck.ok:
            rel = f", {slowest[1].wall / duck.wall:.2f}× its DuckDB reference"  # type: ignore[operator]
        out.append(f"- {size}: the slowest analysis is `{slowest[0]}` at "
                   f"{slowest[1].wall:.2f} s{rel}.")
    return out


# ---------------------------------------------------------------------------------------
# Profiles


def profile(args: argparse.Namespace, size: str) -> None:
    """pyinstrument and ``-X importtime`` of each analysis on the ``size`` log, and of ingest
    and demo where that size's statutory files exist (``--only`` picks some)."""
    log, _ = ensure_log(args.data, size, False)
    folder = args.data / "profiles" / size
    folder.mkdir(parents=True, exist_ok=True)
    commands: dict[str, list[str]] = {name: [name, str(log), "--json"] for name in ANALYSES}
    if has_command("report"):
        commands["report"] = ["report", str(log), "-o", str(folder / "report.html")]
    statutory = args.data / f"statutory_{size}"
    if (statutory / "README.md").exists():
        commands["ingest_returns"] = ["ingest", *map(str, statutory_inputs(statutory)),
                                      "-o", str(folder / "ingest_returns.parquet")]
        commands["demo"] = ["demo", "--samples", str(statutory), "-o", str(folder / "demo")]
    s903 = args.data / f"ssda903_{size}"
    if (s903 / "episodes.csv").exists():
        commands["ingest_903_csv"] = ["ingest", str(s903), "-o", str(folder / "ingest_903.parquet")]
    for name, argv in commands.items():
        if args.only and name not in args.only:
            continue
        say(f"profiling {name} at {size}")
        written = [Path(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-o"]
        _clear(written)
        with (folder / f"{name}.importtime").open("wb") as err:
            subprocess.run([PYTHON, "-X", "importtime", "-m", "cscmining", "-q", *argv],
                           stdout=subprocess.DEVNULL, stderr=err, cwd=CODE, env=_env(),
                           check=False)
        _clear(written)
        session = folder / f"{name}.pyisession"
        subprocess.run([PYTHON, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session),
                        "-m", "cscmining", "-q", *argv],
                       stdout=subprocess.DEVNULL, cwd=CODE, env=_env(), check=False)
        # library internals folded (the default view); the session keeps everything
        subprocess.run([PYTHON, "-m", "pyinstrument", "--load", str(session), "-o",
                        str(folder / f"{name}.pyinstrument.txt")], cwd=CODE, env=_env(),
                       check=False)
        say(f"  wrote {folder / name}.pyinstrument.txt, .pyisession and .importtime")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m,10m",
                        help="comma-separated log sizes: 100k, 1m, 10m (default: all three)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--pm4py-repeat", type=int, default=None,
                        help="runs of the pm4py pipeline (default: --repeat)")
    parser.add_argument("--include-100m", action="store_true",
                        help="also map/variants/stuck on a 100 M-event log (and DuckDB once)")
    parser.add_argument("--ingest-sizes", default=",".join(STATUTORY_SIZES),
                        help="sizes to time ingest and demo at (statutory files are written "
                             "for them; default 100k,1m)")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per run")
    parser.add_argument("--once-above", type=float, default=60,
                        help="run a command once only when its first run takes longer")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--regenerate", action="store_true", help="make the logs afresh")
    parser.add_argument("--code", default="HEAD",
                        help="the cscmining to measure: a git revision, snapshotted under "
                             "--data (default HEAD), or 'worktree' for the checkout as it is")
    parser.add_argument("--profile", action="store_true",
                        help="instead of timing, profile each command at the first size "
                             "(needs pyinstrument)")
    parser.add_argument("--only", default="", metavar="NAMES",
                        help="time (or with --profile, profile) only these commands, e.g. "
                             "ingest_903_csv,ingest_returns,ingest_cin_xml,demo,report,map,"
                             "duckdb-map,pm4py_pipeline")
    args = parser.parse_args(argv)
    args.pm4py_repeat = args.pm4py_repeat or args.repeat
    args.data = args.data.resolve()  # commands run in the measured code's folder
    args.results = args.results.resolve()
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    args.ingest_sizes = {s.strip().lower() for s in args.ingest_sizes.split(",") if s.strip()}
    args.only = {_key(s.strip()) for s in args.only.split(",") if s.strip()}
    if args.include_100m and "100m" not in sizes:
        sizes.append("100m")
    global CODE
    CODE = prepare_code(args.code, args.data)
    say(f"measuring cscmining from {CODE}")
    if args.profile:
        profile(args, sizes[0])
        return
    if not Path(TIME).exists():
        sys.exit("/usr/bin/time is needed for peak memory (apt-get install time)")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sys.exit("duckdb is needed for the SQL reference: pip install -e '.[bench]'")
    started = time.perf_counter()
    report_available = has_command("report")
    say(f"sizes {', '.join(sizes)}; {args.repeat} runs each; report command "
        f"{'found' if report_available else 'not found'}")
    results: dict[str, SizeResult] = {}
    for size in sizes:
        results[size] = run_size(size, args, report_available)
        write_results(args.results, results, args, started, report_available)
    failed = [t for t in targets(results) if t.passed is False]
    differ = [n for r in results.values() for n, p in r.checks.items() if p]
    say(f"done: {len(failed)} target(s) failed, {len(differ)} check(s) differ")


if __name__ == "__main__":
    main()
