"""Seeded benchmark data: cscmining event logs at 100 k … 100 M events, and statutory returns.

Event logs
    ``event_log(path, events=…, seed=…)`` writes a Parquet file in exactly the shape
    ``cscmining ingest`` writes (`cscmining.eventlog._write_parquet`): the same columns and Arrow
    types, sorted by (case, timestamp, stage:order, source, source:row), the pandas metadata and
    cscmining's own metadata key, row groups of 1,048,576 rows. Journeys are a Markov chain over
    the activities of ``logmaps/stages.yaml`` with lognormal step durations (the shape of the
    journeys `cscmining.samples` simulates: front door, assessment, child protection, care,
    adoption, leaving care, re-referrals), about 6–7 events per child; office events are moved
    off weekends; journeys are cut at the as-at date (2025-03-31), so many children are still
    open. Everything is vectorised over children (numpy), and written in chunks of children, so a
    100 M-event log is made with bounded memory.

Statutory returns
    ``statutory(folder, children=…)``: `cscmining.samples.write_samples` (CIN census XML, SSDA903
    CSV set, Annex A workbook), about 5 events per child once ingested.
    ``ssda903_csv(folder, base=…, episodes=…)``: an SSDA903 CSV set scaled up from a base set by
    tiling it with fresh child identifiers until ``episodes.csv`` has about ``episodes`` rows
    (the CSV ingest throughput benchmark).

Command line (used by ``run.py``; each product is cached under ``benchmarks/data``)::

    python benchmarks/generate.py log --events 1m -o benchmarks/data/log_1m.parquet
    python benchmarks/generate.py statutory --children 200000 -o benchmarks/data/statutory_1m
    python benchmarks/generate.py ssda903 --base benchmarks/data/statutory_1m/ssda903_2025 \\
        --episodes 1m -o benchmarks/data/ssda903_1m
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

AS_AT = date(2025, 3, 31)
#: journeys start uniformly over this many days before the as-at date
HISTORY_DAYS = 10 * 365
#: rows per Parquet row group: pyarrow's default for `pq.write_table`, as `ingest` writes
ROW_GROUP = 1024 * 1024
#: children simulated per chunk (≈ 6.5 M events): bounds memory for the 100 M-event log
CHUNK_CHILDREN = 1_000_000
#: a journey longer than this many events is cut (the chain makes very few)
MAX_EVENTS = 80
#: mean events per child of the chain below (6.2 on 300 k children)
EVENTS_PER_CHILD = 6.2

STOP = "STOP"  # no further event: the child is still where the last event left them

# fmt: off
#: activity -> [(next activity or STOP, weight, median days, lognormal sigma)]
CHAIN: dict[str, list[tuple[str, float, float, float]]] = {
    "START": [("Contact", .45, 0, 0), ("Referral", .36, 0, 0),
              ("Early help assessment start", .14, 0, 0), ("Looked after start", .07, 0, 0)],
    "Contact": [("Referral", .42, 4, .8), ("Early help assessment start", .15, 14, .6),
                ("Contact", .12, 120, .9), (STOP, .22, 0, 0)],
    "Early help assessment start": [("Early help assessment end", .80, 45, .5),
                                    ("Referral", .10, 30, .8), (STOP, .10, 0, 0)],
    "Early help assessment end": [("Referral", .30, 90, .9), ("Contact", .20, 150, .8),
                                  (STOP, .50, 0, 0)],
    "Referral": [("Assessment start", .80, 3, .9), ("Case closed", .12, 2, 1.0),
                 ("S47 enquiry", .06, 1, 1.0), ("Looked after start", .02, 1, 1.0)],
    "Assessment start": [("Assessment authorised", .78, 32, .45), ("S47 enquiry", .14, 6, .8),
                         ("Looked after start", .03, 5, 1.0), (STOP, .05, 0, 0)],
    "S47 enquiry": [("ICPC", .42, 11, .45), ("Assessment authorised", .45, 18, .6),
                    ("Case closed", .08, 20, .6), (STOP, .05, 0, 0)],
    "ICPC": [("CP plan start", .87, 0, 0), ("Case closed", .08, 0, 0), ("CIN plan start", .05, 0, 0)],
    "Assessment authorised": [("Case closed", .45, 6, 1.0), ("CIN plan start", .33, 7, .8),
                              ("S47 enquiry", .06, 10, 1.0), ("Looked after start", .04, 20, 1.0),
                              ("Referral", .04, 200, .6), (STOP, .08, 0, 0)],
    "CIN plan start": [("CIN plan end", .70, 200, .6), ("S47 enquiry", .10, 90, .8),
                       ("Looked after start", .05, 120, .8), (STOP, .15, 0, 0)],
    "CIN plan end": [("Case closed", .85, 0, 0), ("Referral", .05, 180, .7),
                     ("CIN plan start", .05, 1, 1.0), (STOP, .05, 0, 0)],
    "CP plan start": [("CP review", .88, 80, .12), ("CP plan end", .06, 60, .6),
                      ("Looked after start", .06, 40, .8)],
    "CP review": [("CP review", .50, 180, .2), ("CP plan end", .45, 150, .5),
                  ("Looked after start", .10, 60, .8), (STOP, .05, 0, 0)],
    "CP plan end": [("CIN plan start", .50, 0, 0), ("Case closed", .30, 14, .8),
                    ("Looked after start", .12, 0, 0), (STOP, .08, 0, 0)],
    "Looked after start": [("CLA review", .82, 18, .35), ("Placement change", .08, 10, 1.0),
                           ("Legal status change", .04, 20, .8),
                           ("Left care: returned home", .06, 8, 1.0)],
    "CLA review": [("CLA review", .52, 150, .3), ("Placement change", .18, 80, .8),
                   ("Legal status change", .08, 100, .7), ("Missing", .06, 60, .9),
                   ("Adoption decision", .04, 120, .6), ("Left care: returned home", .07, 120, .8),
                   ("Left care: independent living", .05, 400, .6),
                   ("Left care: special guardianship", .03, 300, .6),
                   ("Left care: child arrangements order", .01, 300, .6),
                   ("Left care: other", .02, 200, .8), (STOP, .04, 0, 0)],
    "Placement change": [("CLA review", .60, 45, .6), ("Placement change", .12, 120, .9),
                         ("Missing", .10, 30, .9), ("Left care: other", .04, 200, .8),
                         ("Left care: independent living", .06, 300, .6), (STOP, .08, 0, 0)],
    "Legal status change": [("CLA review", .55, 40, .6), ("Placement change", .20, 60, .8),
                            ("Adoption decision", .10, 90, .6),
                            ("Left care: special guardianship", .05, 200, .6),
                            ("Left care: returned home", .05, 150, .8), (STOP, .05, 0, 0)],
    "Missing": [("CLA review", .45, 40, .7), ("Missing", .25, 20, 1.0),
                ("Placement change", .20, 25, .8), (STOP, .10, 0, 0)],
    "Adoption decision": [("Placement order", .75, 60, .6), ("CLA review", .15, 40, .5),
                          ("Left care: special guardianship", .10, 200, .6)],
    "Placement order": [("Matched with adopters", .75, 150, .6), ("CLA review", .25, 40, .5)],
    "Matched with adopters": [("Placed for adoption", .90, 35, .5), ("CLA review", .10, 40, .5)],
    "Placed for adoption": [("Left care: adopted", .80, 250, .4), ("CLA review", .15, 60, .5),
                            (STOP, .05, 0, 0)],
    "Case closed": [("Referral", .36, 300, .8), ("Contact", .16, 200, .8), (STOP, .48, 0, 0)],
}
LEFT_CARE = [("Referral", .06, 365, .8), (STOP, .94, 0, 0)]

#: the source table each activity is read from in a real log (one per activity here)
SOURCE = {
    "Contact": "annex_a/list_1", "Early help assessment start": "annex_a/list_2",
    "Early help assessment end": "annex_a/list_2", "Referral": "cin_census/cindetails",
    "Assessment start": "cin_census/assessments", "Assessment authorised": "cin_census/assessments",
    "S47 enquiry": "cin_census/section47", "ICPC": "cin_census/cindetails",
    "CIN plan start": "cin_census/cinplandates", "CIN plan end": "cin_census/cinplandates",
    "CP plan start": "cin_census/childprotectionplans", "CP plan end": "cin_census/childprotectionplans",
    "CP review": "cin_census/cppreviewdate", "CLA review": "ssda903/reviews",
    "Missing": "ssda903/missing", "Adoption decision": "ssda903/placed_adoption",
    "Placement order": "annex_a/list_10", "Matched with adopters": "annex_a/list_10",
    "Placed for adoption": "annex_a/list_10", "Case closed": "cin_census/cindetails",
}
FILES = ["synthetic/annex_a_2025.xlsx", "synthetic/cin_census_2025.xml", "synthetic/ssda903_2025"]
#: events that happen in an office: moved off a weekend to the Monday, as `samples` does
OFFICE = {"Referral", "Assessment start", "Assessment authorised", "S47 enquiry", "ICPC",
          "CIN plan start", "CIN plan end", "CP plan start", "CP plan end", "CP review",
          "CLA review", "Adoption decision", "Placement order", "Matched with adopters",
          "Case closed"}
TEAM = {"Front door": ["MASH", "Front Door"], "Early help": ["Early Help Hub"],
        "Assessment": ["Assessment Team North", "Assessment Team South"],
        "Child protection": ["Child Protection Team"],
        "Child in need": ["Children in Need Team", "Family Support Team"],
        "Looked after": ["Children in Care Team"], "Adoption": ["Permanence Team"],
        "Left care": ["Leaving Care Team"], "Closed": ["Assessment Team North", "Children in Need Team"]}
LEGAL = ({"C2": 45, "V2": 30, "C1": 15, "E1": 5, "L1": 3, "L2": 2}, ["Looked after start",
         "Legal status change", "Placement change"])
PLACEMENT = ({"U6": 45, "U3": 18, "K2": 15, "U4": 10, "K3": 5, "U5": 4, "P1": 3},
             ["Looked after start", "Placement change"])
REASON = ({"RC8": 40, "RC7": 25, "RC9": 15, "RC1": 6, "RC4": 6, "RC5": 5, "RC2": 3},
          ["Case closed"])
SEX = {"Male": 52, "Female": 48}
ETHNICITY = {"WBRI": 62, "WOTH": 6, "MWBC": 4, "BAFR": 4, "MOTH": 3, "APKN": 3, "OOTH": 2,
             "AOTH": 2, "AIND": 2, "BCRB": 2, "MWBA": 2, "MWAS": 2, "NOBT": 1.5, "WROM": 1,
             "ABAN": 1, "BOTH": 1, "REFU": 0.5}
AGE_BAND = {"under 1": 14, "1-4": 18, "5-9": 22, "10-15": 32, "16+": 14}
# fmt: on

_SUFFIX = {"k": 10**3, "m": 10**6}


def parse_size(text: str) -> int:
    """``100k`` → 100000, ``1m`` → 1000000, ``2500`` → 2500."""
    text = text.strip().lower()
    if text[-1:] in _SUFFIX:
        return int(float(text[:-1]) * _SUFFIX[text[-1]])
    return int(text)


def _say(message: str) -> None:
    print(f"[generate] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# The chain as arrays


class _Model:
    """The vocabulary, the chain and the attribute tables as numpy arrays."""

    def __init__(self) -> None:
        from cscmining.vocabulary import load_vocabulary

        vocab = load_vocabulary()
        self.vocabulary = vocab
        self.names = [a.name for a in vocab.activities]
        index = {name: i for i, name in enumerate(self.names)}
        k = len(self.names)
        self.stop = k  # the STOP state's code
        self.start = k + 1  # the START state's code
        self.order = np.array([a.order for a in vocab.activities], dtype=np.int32)
        self.terminal = np.array([a.terminal for a in vocab.activities])
        chain = dict(CHAIN)
        for name in self.names:
            if name.startswith("Left care: "):
                chain[name] = LEFT_CARE
        missing = set(self.names) - set(chain)
        if missing:
            raise RuntimeError(f"no transitions for {sorted(missing)}")
        n_states = k + 2
        self.cum = np.ones((n_states, k + 1))
        self.median = np.zeros((n_states, k + 1))
        self.sigma = np.zeros((n_states, k + 1))
        for name, moves in chain.items():
            row = self.start if name == "START" else index[name]
            weights = np.zeros(k + 1)
            for target, weight, median, sigma in moves:
                col = self.stop if target == STOP else index[target]
                weights[col] += weight
                self.median[row, col] = median
                self.sigma[row, col] = sigma
            self.cum[row] = np.cumsum(weights / weights.sum())
        self.cum[:, -1] = 1.0  # no rounding gap above the last state
        self.office = np.array([n in OFFICE for n in self.names])
        self.sources = sorted({SOURCE.get(n, "ssda903/episodes") for n in self.names})
        self.source_of = np.array(
            [self.sources.index(SOURCE.get(n, "ssda903/episodes")) for n in self.names],
            dtype=np.int32)
        family = {"annex_a": 0, "cin_census": 1, "ssda903": 2}  # positions in FILES
        self.file_of = np.array([family[self.sources[s].split("/")[0]] for s in self.source_of],
                                dtype=np.int64)
        groups = [vocab.group[n] for n in self.names]
        self.teams = sorted({t for ts in TEAM.values() for t in ts})
        self.team_choices = [np.array([self.teams.index(t) for t in TEAM[g]]) for g in groups]


def _weights(table: dict[str, float]) -> tuple[list[str], np.ndarray]:
    labels = list(table)
    w = np.array([table[x] for x in labels], dtype=float)
    return labels, w / w.sum()


def _simulate(model: _Model, rng: np.random.Generator, n_children: int,
              first_day: int, as_at_day: int) -> dict[str, np.ndarray]:
    """Events of ``n_children`` journeys, in generation order: child number, activity code,
    day (since 1970-01-01) and the activity the event led to (`_Model.stop` when none).

    Each child's first event falls before the as-at date, so every child is a case.
    """
    child_parts, code_parts, day_parts, led_parts = [], [], [], []
    alive = np.arange(n_children)
    state = np.full(n_children, model.start)
    day = rng.integers(first_day, as_at_day - 2, n_children).astype(np.int64)
    for _ in range(MAX_EVENTS):
        if len(alive) == 0:
            break
        u = rng.random(len(alive))
        nxt = np.minimum((u[:, None] > model.cum[state]).sum(axis=1), model.stop)
        median = model.median[state, nxt]
        sigma = model.sigma[state, nxt]
        step = np.rint(median * np.exp(sigma * rng.standard_normal(len(alive)))).astype(np.int64)
        day = day + step
        go = nxt != model.stop
        # office events on a Saturday or Sunday move to the Monday (1970-01-01 was a Thursday)
        weekday = (day + 3) % 7  # Monday 0
        office = go & model.office[np.minimum(nxt, model.stop - 1)] & (weekday >= 5)
        day = np.where(office, day + (7 - weekday), day)
        go &= day <= as_at_day
        if led_parts:
            led_parts[-1] = np.where(go, nxt, model.stop)
        alive, state, day = alive[go], nxt[go], day[go]
        child_parts.append(alive)
        code_parts.append(state)
        day_parts.append(day)
        led_parts.append(np.full(len(alive), model.stop))
    return {
        "child": np.concatenate(child_parts), "code": np.concatenate(code_parts),
        "day": np.concatenate(day_parts), "next": np.concatenate(led_parts),
    }


def _dictionary_column(labels: list[str], indices: np.ndarray, valid: np.ndarray | None = None):
    """A large_string Arrow column from small label list and codes (nulls where not valid)."""
    import pyarrow as pa

    idx = pa.array(indices.astype(np.int32), mask=None if valid is None else ~valid)
    return pa.DictionaryArray.from_arrays(idx, pa.array(labels, type=pa.large_string())) \
        .cast(pa.large_string())


def _chunk_table(model: _Model, rng: np.random.Generator, first_child: int, n_children: int,
                 id_width: int, first_day: int, as_at_day: int, row_start: np.ndarray):
    """One sorted chunk of the log as an Arrow table (children first_child…+n_children)."""
    import pyarrow as pa

    sim = _simulate(model, rng, n_children, first_day, as_at_day)
    child, code, day = sim["child"], sim["code"], sim["day"]
    order = model.order[code].astype(np.int64)
    source = model.source_of[code].astype(np.int64)
    # sort key (case, day, stage order, source); case ids are zero-padded so string order
    # is number order, and rows of one source number upwards along the log
    key = ((child.astype(np.int64) * 2**17 + (day - first_day + 2)) * 256 + order) * 16 + source
    perm = np.argsort(key, kind="stable")
    child, code, day, nxt, source = child[perm], code[perm], day[perm], sim["next"][perm], source[perm]
    n = len(code)
    # source:row: 1, 2, … per source table along the log, continuing over chunks
    rows = np.empty(n, dtype=np.int64)
    for s in range(len(model.sources)):
        at = np.flatnonzero(source == s)
        rows[at] = row_start[s] + 1 + np.arange(len(at))
        row_start[s] += len(at)

    ids = np.char.zfill((np.arange(first_child, first_child + n_children) + 1).astype(str), id_width)
    ids_arr = pa.array(ids, type=pa.large_string())
    case = pa.DictionaryArray.from_arrays(pa.array(child.astype(np.int32)), ids_arr).cast(pa.large_string())
    stamps = pa.array(day.astype("datetime64[D]").astype("datetime64[ns]"), type=pa.timestamp("ns"))

    s47 = model.names.index("S47 enquiry")
    icpc = model.names.index("ICPC")
    is_s47 = code == s47
    not_required = np.where(nxt == icpc, 0, (rng.random(n) < 0.85).astype(np.int64))
    team_pick = rng.random(n)
    team = np.zeros(n, dtype=np.int64)
    for c in np.unique(code):
        at = np.flatnonzero(code == c)
        choices = model.team_choices[c]
        team[at] = choices[(team_pick[at] * len(choices)).astype(np.int64)]

    def attribute(table: tuple[dict[str, float], list[str]]):
        labels, p = _weights(table[0])
        valid = np.isin(code, [model.names.index(a) for a in table[1]])
        return _dictionary_column(labels, rng.choice(len(labels), n, p=p), valid)

    def case_attribute(table: dict[str, float]):
        labels, p = _weights(table)
        per_child = rng.choice(len(labels), n_children, p=p)
        return _dictionary_column(labels, per_child[child])

    columns = {
        "case:concept:name": case,
        "concept:name": _dictionary_column(model.names, code),
        "time:timestamp": stamps,
        "stage:order": pa.array(model.order[code], type=pa.int32()),
        "source": _dictionary_column(model.sources, source).cast(pa.string()),
        "source:row": pa.array(rows, type=pa.int64()),
        "source:file": pa.array(model.file_of[code], type=pa.int64()),
        "team": _dictionary_column(model.teams, team),
        "icpc_not_required": _dictionary_column(["false", "true"], not_required, is_s47),
        "reason": attribute(REASON),
        "legal_status": attribute(LEGAL),
        "placement_type": attribute(PLACEMENT),
        "case:sex": case_attribute(SEX),
        "case:ethnicity": case_attribute(ETHNICITY),
        "case:age_band": case_attribute(AGE_BAND),
    }
    same = (child[1:] == child[:-1]) & (day[1:] == day[:-1])
    return pa.table(columns), int(np.count_nonzero(same))


def _pandas_metadata(table) -> bytes:
    """The ``pandas`` schema metadata `pa.Table.from_pandas` would write for this table."""
    import pyarrow as pa

    frame = table.slice(0, 1).to_pandas()
    return pa.Schema.from_pandas(frame, preserve_index=False).metadata[b"pandas"]


def event_log(path: Path, *, events: int, seed: int = 2025, as_at: date = AS_AT,
              chunk_children: int = CHUNK_CHILDREN) -> dict[str, int]:
    """Write a synthetic event log of about ``events`` events to ``path`` (Parquet).

    Children = events / `EVENTS_PER_CHILD`; how many events they have depends on the seed. Returns
    ``{"events", "cases", "same_day_ties"}``. The same arguments give the same file.
    """
    import pyarrow.parquet as pq

    from cscmining import __version__

    started = time.perf_counter()
    model = _Model()
    n_children = max(1, round(events / EVENTS_PER_CHILD))
    id_width = max(6, len(str(n_children)))
    as_at_day = int(np.datetime64(as_at, "D").astype(np.int64))
    first_day = as_at_day - HISTORY_DAYS
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    writer = None
    total = ties = 0
    row_start = np.zeros(len(model.sources), dtype=np.int64)
    chunks = []  # per chunk, (first child, children, seed) so every chunk is reproducible
    for first in range(0, n_children, chunk_children):
        chunks.append((first, min(chunk_children, n_children - first)))
    seeds = np.random.SeedSequence(seed).spawn(len(chunks))
    schema = None
    try:
        for i, ((first, count), chunk_seed) in enumerate(zip(chunks, seeds)):
            rng = np.random.default_rng(chunk_seed)
            table, chunk_ties = _chunk_table(model, rng, first, count, id_width, first_day,
                                             as_at_day, row_start)
            if writer is None:
                schema = table.schema.with_metadata({b"pandas": _pandas_metadata(table)})
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(table.cast(schema), row_group_size=ROW_GROUP)
            total += table.num_rows
            ties += chunk_ties
            _say(f"{path.name}: chunk {i + 1}/{len(chunks)}, {total:,} events")
            del table
    finally:
        if writer is not None:
            writer.close()
    # cscmining's metadata holds the totals, known only now: rewrite the footer's metadata
    meta = {
        "version": __version__, "as_at": as_at.isoformat(), "events": total,
        "cases": n_children, "same_day_ties": ties, "merged": 0, "pseudonymised": False,
        "inputs": [{"path": f, "sha256": hashlib.sha256(f.encode()).hexdigest()} for f in FILES],
        "accounts": [],
        "activities": [a.model_dump() for a in model.vocabulary.activities],
        "synthetic": {"generator": "benchmarks/generate.py", "seed": seed},
    }
    _set_metadata(tmp, path, {b"cscmining": json.dumps(meta).encode()})
    _say(f"wrote {path} ({total:,} events, {n_children:,} children) in "
         f"{time.perf_counter() - started:.1f} s")
    return {"events": total, "cases": n_children, "same_day_ties": ties}


def _set_metadata(tmp: Path, path: Path, extra: dict[bytes, bytes]) -> None:
    """Copy ``tmp`` to ``path`` row group by row group, with ``extra`` schema metadata added.

    Parquet keeps schema metadata in the footer, written at close; the totals are only known
    after the last chunk, so the row groups are copied once (no decoding of the whole file
    into memory at once).
    """
    import pyarrow.parquet as pq

    source = pq.ParquetFile(tmp)
    schema = source.schema_arrow
    schema = schema.with_metadata({**(schema.metadata or {}), **extra})
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for i in range(source.num_row_groups):
            writer.write_table(source.read_row_group(i).cast(schema), row_group_size=ROW_GROUP)
    tmp.unlink()


# ---------------------------------------------------------------------------------------
# Statutory returns


def statutory(folder: Path, *, children: int, seed: int = 2025) -> list[Path]:
    """The seeded synthetic returns of `cscmining.samples` for ``children`` children."""
    from cscmining.samples import write_samples

    started = time.perf_counter()
    _say(f"writing statutory samples for {children:,} children to {folder}")
    paths = write_samples(folder, children=children, seed=seed, reference_date=AS_AT)
    _say(f"wrote {folder} in {time.perf_counter() - started:.1f} s")
    return paths


def ssda903_csv(folder: Path, *, base: Path, episodes: int) -> dict[str, int]:
    """Tile the SSDA903 CSV set in ``base`` until ``episodes.csv`` has about ``episodes`` rows.

    Copy *k* of every table gets the child identifiers prefixed with *k* (zero-padded), so the
    copies are distinct children with the same believable records. Returns rows per file.
    """
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with (base / "episodes.csv").open(encoding="utf-8-sig") as fh:
        base_episodes = sum(1 for _ in fh) - 1
    copies = max(1, round(episodes / max(base_episodes, 1)))
    width = len(str(copies))
    rows: dict[str, int] = {}
    for source in sorted(base.glob("*.csv")):
        bom = source.name == "episodes.csv"
        with source.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            body = list(reader)
        at = header.index("CHILD")
        out = folder / source.name
        with out.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(header)
            for k in range(copies):
                prefix = str(k).zfill(width)
                for row in body:
                    row = list(row)
                    row[at] = prefix + row[at]
                    writer.writerow(row)
        rows[source.name] = copies * len(body)
    _say(f"wrote {folder} ({copies} copies of {base}; {sum(rows.values()):,} rows) in "
         f"{time.perf_counter() - started:.1f} s")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    log = sub.add_parser("log", help="a synthetic event log (Parquet)")
    log.add_argument("--events", required=True, help="about how many events: 100k, 1m, 10m…")
    log.add_argument("--seed", type=int, default=2025)
    log.add_argument("-o", "--output", type=Path, required=True)
    stat = sub.add_parser("statutory", help="CIN census, SSDA903 and Annex A samples")
    stat.add_argument("--children", type=int, required=True)
    stat.add_argument("--seed", type=int, default=2025)
    stat.add_argument("-o", "--output", type=Path, required=True)
    s903 = sub.add_parser("ssda903", help="a large SSDA903 CSV set tiled from a base set")
    s903.add_argument("--base", type=Path, required=True)
    s903.add_argument("--episodes", required=True)
    s903.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.what == "log":
        print(json.dumps(event_log(args.output, events=parse_size(args.events), seed=args.seed)))
    elif args.what == "statutory":
        statutory(args.output, children=args.children, seed=args.seed)
    else:
        print(json.dumps(ssda903_csv(args.output, base=args.base,
                                     episodes=parse_size(args.episodes))))


if __name__ == "__main__":
    main()
