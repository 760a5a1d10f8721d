"""Seeded synthetic returns for one made-up local authority (``cscmining samples``).

Workshops, tests and benchmarks need data that look like an LA's statutory returns — the real
file formats, field names and code lists of ``research/domain.md`` §2 — without being anyone's
data. This module simulates one pool of children through the front door, child protection and
care, and writes what each return would hold about them:

* the CIN census (XML, 2025 shape: ``Sex``, booleans ``true``/``false``);
* the SSDA903 return as a CSV set, and the same data as one ``EXPSSDA903`` XML file;
* Ofsted Annex A as an xlsx workbook, and the same lists as one CSV each.

A child has the same identifier in every return and a fact has the same date wherever it
appears, because cscmining merges such events across sources.

**How the pool is drawn.** Candidate journeys are simulated in days from their own start,
stage by stage, vectorised over every journey at a stage, with numpy's seeded Generator only,
so one seed gives byte-identical files. A return sees a journey only while it overlaps the
return's window, so a long journey (years in care) is more likely to be seen than a single
contact: candidates are kept with probability proportional to the length of time over which
they would be visible, and each kept journey is placed uniformly over those dates. Whatever
falls after the reference date has not happened yet and is cut, which leaves many children
open, as in real returns. Day 0 of every journey is a Monday, so office events (conferences,
reviews, court orders) are moved off weekends during the simulation itself.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from .outputs import write_bytes, write_text
from .timescales import due_dates, working_calendar

# ---------------------------------------------------------------------------------------
# Model parameters (days unless named otherwise). Weights need not sum to one.

# fmt: off
YEAR = 365.25
#: a journey started more than this many days before the reference date is not drawn
MAX_BACK = 8 * 365
#: how long after a record closes a return still sees it: the CIN census and 903 cover a year,
#: Annex A lists 1–2 (contacts, early help) six months; a few days less, because each journey
#: is then moved back to a Monday
SEEN_CIN, SEEN_CONTACT = 358, 175
#: candidate journeys simulated per child kept
CANDIDATES_PER_CHILD = 5
#: the date supported accommodation became regulated: a placement begun from then is K3
K3_FROM = np.datetime64("2023-10-28")
#: 18 years hold at least this many days (4 leap days, a 29 February birthday lost)
DAYS_TO_18 = 18 * 365 + 3

P_REFERRED = 0.40  # a candidate ever referred (the rest only ever reach the front door)
P_UASC = 0.018  # of candidates aged 14½+ at the start, unaccompanied asylum-seeking
P_STEP_UP = 0.12  # first referrals that follow an early help assessment
P_NFA = 0.07  # referrals closed with no further action at referral
P_REREFERRAL = 0.33  # after a closure, another referral follows
P_ASSESSMENT_DRIFT = 0.045  # assessments left unauthorised for months
P_ICPC = 0.42  # S47 enquiries that lead to an initial child protection conference
P_CPP = 0.87  # ICPCs that make a child protection plan
P_ICPC_NOT_REQUIRED = 0.85  # S47s without a conference that record "not required"
P_ADOPTION_CEASED = 0.12  # adoption decisions later reversed

ETHNICITY = {"WBRI": 62, "WIRI": 0.5, "WIRT": 0.3, "WOTH": 6, "WROM": 1, "MWBC": 4, "MWBA": 2,
             "MWAS": 2, "MOTH": 3, "AIND": 2, "APKN": 3, "ABAN": 1, "AOTH": 2, "BCRB": 2,
             "BAFR": 4, "BOTH": 1, "CHNE": 0.5, "OOTH": 2, "REFU": 0.5, "NOBT": 1.5}
ETHNICITY_UASC = {"BAFR": 30, "OOTH": 25, "AOTH": 25, "BOTH": 10, "MOTH": 10}
DISABILITY = {"LD": 30, "AUT": 25, "BEH": 15, "COMM": 10, "MOB": 8, "HAND": 3, "PC": 3,
              "INC": 2, "HEAR": 2, "VIS": 2}
#: age at the start of a journey, by band: (weight, low, high) in years
AGE_BANDS = [(14, 0, 1), (18, 1, 5), (22, 5, 10), (32, 10, 16), (14, 16, 17.7)]

REFERRAL_SOURCE = {"1A": 4, "1B": 1, "1C": 1, "1D": 1, "2A": 19, "2B": 2, "3A": 3, "3B": 3,
                   "3C": 1, "3D": 2, "3E": 3, "3F": 2, "4": 2, "5A": 4, "5B": 3, "5C": 3,
                   "5D": 6, "6": 29, "7": 3, "8": 5, "9": 1, "10": 2}
SOURCE_UASC = {"5C": 4, "6": 3, "7": 3}
#: Annex A's lettered contact/referral sources, from the CIN ReferralSource code
SOURCE_LABEL = {"1": "a) Individual", "2A": "b) Schools", "2B": "c) Education services",
                "3": "d) Health services", "4": "e) Housing", "5": "f) LA services",
                "6": "g) Police", "7": "h) Other legal agency", "8": "i) Other",
                "9": "j) Anonymous", "10": "k) Unknown"}
NEED = {"N1": 45, "N2": 8, "N3": 6, "N4": 12, "N5": 17, "N6": 5, "N7": 2, "N8": 5}
NEED_CARE = {"cp": {"N1": 90, "N4": 4, "N5": 6},
             "emergency": {"N1": 60, "N4": 15, "N5": 10, "N6": 10, "N3": 5},
             "cin": {"N1": 40, "N5": 20, "N4": 15, "N2": 10, "N6": 10, "N3": 5},
             "uasc": {"N8": 1}}
ABUSE = {"NEG": 48, "EMO": 38, "PHY": 7, "SAB": 4, "MUL": 3}
FACTORS = {"3B": 20, "4B": 18, "16A": 12, "17A": 8, "2B": 8, "1B": 7, "4A": 6, "3A": 5,
           "21": 4, "18C": 3, "14A": 3, "10A": 2, "11A": 2, "24A": 2, "5B": 2, "6B": 2,
           "15A": 2, "7A": 1, "13A": 1, "20": 2}

#: how a period of care ends, by age band at entry (<1, 1–4, 5–9, 10–15, 16–17, UASC)
OUTCOMES = ["adoption", "sgo", "cao", "home", "stay", "other"]
OUTCOME_WEIGHTS = np.array([
    [46, 20, 3, 14, 17, 0],
    [28, 24, 4, 23, 21, 0],
    [2, 18, 5, 38, 37, 0],
    [0, 6, 2, 50, 37, 5],
    [0, 0, 0, 30, 62, 8],
    [0, 0, 0, 0, 85, 15],
], dtype=float)
LEGAL_START = {"emergency": {"L1": 30, "L2": 15, "V2": 55}, "cp": {"C1": 72, "V2": 23, "L2": 5},
               "cin": {"V2": 65, "C1": 35}, "uasc": {"V2": 1}}
#: first placement, then placement on a move, by age band; SA is supported accommodation,
#: written H5 or K3 by date once the journey is placed in time
PLACE_START = [{"U6": 55, "U3": 22, "U5": 6, "R3": 8, "P1": 9},
               {"U6": 55, "U3": 28, "U5": 4, "P1": 13},
               {"U6": 58, "U3": 30, "K2": 5, "P1": 7},
               {"U6": 52, "U3": 20, "K2": 22, "P1": 3, "S1": 2, "R1": 1},
               {"K2": 22, "SA": 30, "U6": 33, "U3": 15},
               {"SA": 60, "U6": 40}]
PLACE_MOVE = [{"U6": 62, "U3": 22, "U4": 10, "P1": 6},
              {"U6": 55, "U3": 22, "U4": 15, "P1": 8},
              {"U6": 52, "U4": 20, "U3": 15, "K2": 8, "P1": 5},
              {"U6": 42, "U4": 16, "K2": 28, "U3": 10, "P1": 2, "S1": 1, "R1": 1},
              {"SA": 35, "K2": 25, "U6": 25, "U4": 10, "U3": 5},
              {"SA": 70, "U6": 30}]
MOVES_PER_YEAR = [0.35, 0.35, 0.45, 0.8, 0.9, 0.6]
#: a foster placement confirmed as long term: same carer, new placement code (RNE T)
LONG_TERM = {"U6": "U4", "U3": "U1"}
PROVIDER = {"U": {"PR1": 55, "PR4": 40, "PR5": 5}, "kin": {"PR1": 92, "PR2": 8},
            "K": {"PR4": 75, "PR1": 20, "PR5": 5},
            "S": {"PR4": 60, "PR1": 30, "PR5": 10}, "A": {"PR1": 70, "PR2": 10, "PR5": 20},
            "R": {"PR3": 1}, "P": {"PR0": 1}}
#: Ofsted URN pools by placement letter; placements without an Ofsted registration get XXXXXXX
URN_POOL = {"U": 14, "K": 25, "S": 10, "A": 4}
CHANGE_REASON = {"CARPL": 45, "CREQB": 12, "CREQO": 10, "CHILD": 6, "LAREQ": 8, "ALLEG": 2,
                 "STAND": 3, "CLOSE": 4, "APPRR": 2, "OTHER": 8}
REC = {"adoption": {"E12": 70, "E11": 30}, "sgo": {"E45": 20, "E46": 12, "E47": 50, "E48": 18},
       "cao": {"E41": 1}, "home": {"E4A": 70, "E4B": 10, "E13": 20},
       "stay": {"E17": 25, "E5": 50, "E6": 12, "E8": 5, "E13": 8},
       "other": {"E8": 45, "E3": 35, "E16": 10, "E9": 10},
       "other_uasc": {"E15": 50, "E8": 30, "E16": 20}}
REVIEW_CODE = {"PN1": 45, "PN2": 5, "PN3": 5, "PN4": 5, "PN5": 15, "PN6": 25}
CLOSURE_AFTER_CARE = {"adoption": "RC1", "sgo": "RC4", "cao": "RC3", "home": "RC7",
                      "stay": "RC7", "other": "RC7"}

TEAMS = {"front": ["MASH", "Front Door"],
         "assess": ["Assessment Team North", "Assessment Team South"],
         "cp": ["Child Protection Team"], "cin": ["Children in Need Team", "Family Support Team"],
         "cla": ["Children in Care Team"], "perm": ["Permanence Team"],
         "leave": ["Leaving Care Team"], "dis": ["Disabled Children's Team"]}
EH_ORGANISATION = ["Family Hub", "Early Help Team", "School", "Health Visiting Service"]
SYNTHETIC_LAS = ["Synthetic County", "Example Borough", "Fictional City", "Sample Shire"]
# fmt: on


# ---------------------------------------------------------------------------------------
# Small vectorised helpers


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """``n`` codes drawn with the given relative weights."""
    codes = np.array(list(weights), dtype=object)
    p = np.fromiter(weights.values(), float)
    return codes[rng.choice(len(codes), size=n, p=p / p.sum())]


def _pick_by(
    rng: np.random.Generator,
    tables: list[dict[str, float]] | dict[str, dict[str, float]],
    keys: np.ndarray,
) -> np.ndarray:
    """One code per row, drawn from the weight table that row's key selects."""
    out = np.empty(len(keys), dtype=object)
    for key in np.unique(keys):
        rows = keys == key
        out[rows] = _pick(rng, tables[key], int(rows.sum()))
    return out


def _lognormal(
    rng: np.random.Generator, median: float | np.ndarray, sigma: float, n: int
) -> np.ndarray:
    """Whole days, log-normally spread around ``median`` (durations are skewed like this)."""
    return np.round(median * np.exp(sigma * rng.standard_normal(n)))


def _uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """Whole days from ``low`` to ``high`` inclusive."""
    return rng.integers(int(low), int(high) + 1, n).astype(float)


def _workday(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Move a Saturday or Sunday forward to one of the next weekdays, at random, so no weekday
    collects the weekends (relative day 0 is a Monday; NaN stays). Only ever moving forward
    keeps every later event after the one it follows."""
    days = np.asarray(days, dtype=float)
    with np.errstate(invalid="ignore"):  # NaN and infinity stay as they are
        weekday = np.mod(days, 7)
    return days + np.where(weekday >= 5, 7 - weekday + rng.integers(0, 5, days.shape), 0)


def _mostly_workday(rng: np.random.Generator, days: np.ndarray, share: float) -> np.ndarray:
    """Roll ``share`` of the days to a weekday: out-of-hours work happens, but less."""
    return np.where(rng.random(len(days)) < share, _workday(rng, days), days)


def _add_workdays(days: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``count`` weekdays after each day (bank holidays are not known in relative time)."""
    base = np.datetime64("2001-01-01")  # a Monday, like relative day 0
    moved = np.busday_offset(base + days.astype("int64"), count.astype("int64"), roll="forward")
    return (moved - base).astype("int64").astype(float)


# ---------------------------------------------------------------------------------------
# The simulation: tokens (one row per CIN episode in progress) move from stage to stage.

_TOKEN = ["child", "episode", "auth", "escalated"]


class _Book:
    """The records the simulation writes, collected per table as column arrays."""

    def __init__(self) -> None:
        self._parts: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, table: str, **columns: np.ndarray) -> None:
        self._parts[table].append(columns)

    def frame(self, table: str, columns: Iterable[str]) -> pd.DataFrame:
        parts = [pd.DataFrame(p) for p in self._parts[table] if len(next(iter(p.values())))]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
        return pd.concat(parts, ignore_index=True)


@dataclass
class _Sim:
    """What every stage reads and writes: the generator, the candidates, the records."""

    rng: np.random.Generator
    kids: pd.DataFrame
    book: _Book
    episodes_of: np.ndarray
    plans_of: np.ndarray
    next_id: int = 0

    def ids(self, n: int) -> np.ndarray:
        first = self.next_id
        self.next_id += n
        return np.arange(first, first + n)

    def kid(self, column: str, child: np.ndarray) -> np.ndarray:
        return self.kids[column].to_numpy()[child]


def _carry(tok: pd.DataFrame, mask: np.ndarray, t: np.ndarray, **extra: object) -> pd.DataFrame:
    """The tokens selected by ``mask``, moved to time ``t`` with extra columns set."""
    out = {name: tok[name].to_numpy()[mask] for name in _TOKEN}
    out["t"] = t[mask]
    for name, value in extra.items():
        out[name] = value[mask] if isinstance(value, np.ndarray) else np.full(len(out["t"]), value)
    return pd.DataFrame(out)


Route = list[tuple[str, pd.DataFrame]]


def _referral(sim: _Sim, tok: pd.DataFrame) -> Route:
    """A referral opens a CIN episode; the contact it came from, and earlier ones that did not
    become referrals, go with it. A few are closed at once (NFA); the rest are assessed."""
    rng = sim.rng
    child = tok["child"].to_numpy()
    tok = tok[tok["t"].to_numpy() < sim.kid("b18", child) - 60]  # no referral just before 18
    n, child = len(tok), tok["child"].to_numpy()
    if not n:
        return []
    t = _mostly_workday(rng, tok["t"].to_numpy(), 0.9)
    first = sim.episodes_of[child] == 0
    np.add.at(sim.episodes_of, child, 1)
    uasc = first & sim.kid("uasc", child)
    step_up = first & ~uasc & (rng.random(n) < P_STEP_UP)
    source = np.where(step_up, "5D", _pick(rng, REFERRAL_SOURCE, n))
    source = np.where(uasc, _pick(rng, SOURCE_UASC, n), source)
    nfa = ~uasc & (rng.random(n) < P_NFA)
    episode = sim.ids(n)
    sim.book.add("episodes", child=child, episode=episode, ref=t, source=source, nfa=nfa, uasc=uasc)
    # the contact that became this referral, and earlier ones that did not
    lag = np.where(rng.random(n) < 0.75, 0, _uniform(rng, 1, 3, n))
    sim.book.add("contacts", child=child, date=t - lag, source=source)
    earlier = rng.poisson(0.6, n)
    who = np.repeat(np.arange(n), earlier)
    sim.book.add(
        "contacts",
        child=child[who],
        date=_mostly_workday(rng, t[who] - _uniform(rng, 7, 240, len(who)), 0.75),
        source=_pick(rng, REFERRAL_SOURCE, len(who)),
    )
    eh_start = _workday(rng, t - _uniform(rng, 60, 200, n))
    eh_end = _workday(rng, np.minimum(eh_start + _lognormal(rng, 55, 0.4, n), t - 3))
    sim.book.add(
        "early_help",
        child=child[step_up],
        start=eh_start[step_up],
        end=eh_end[step_up],
        org=rng.choice(EH_ORGANISATION, int(step_up.sum())),
    )
    tok = tok.assign(episode=episode, auth=np.nan, escalated=False)
    return [
        ("close", _carry(tok, nfa, t, reason="RC8")),
        ("assessment", _carry(tok, ~nfa, t, uasc=uasc)),
    ]


def _assessment(sim: _Sim, tok: pd.DataFrame) -> Route:
    """The single assessment, and where the episode goes from it: a section 47 enquiry (started
    while the assessment runs), care in an emergency, a CIN plan, or closure."""
    rng, n = sim.rng, len(tok)
    child = tok["child"].to_numpy()
    b18 = sim.kid("b18", child)
    start = _workday(
        rng, tok["t"].to_numpy() + np.where(rng.random(n) < 0.55, 0, _uniform(rng, 1, 7, n))
    )
    length = np.maximum(_lognormal(rng, 27, 0.5, n), 1)
    length = np.where(rng.random(n) < P_ASSESSMENT_DRIFT, _uniform(rng, 75, 330, n), length)
    auth = np.minimum(_workday(rng, start + length), b18 - 1)
    age = (sim.kid("age0", child) + start) / YEAR
    # babies and teenagers are the likeliest to come into care straight from the front door
    route = np.where(
        rng.random(n) < np.select([age < 1, age > 13], [0.15, 0.065], 0.05),
        "care",
        _pick(rng, {"s47": 15.5, "cin": 25, "close": 57.5}, n),
    )
    route = np.where(tok["uasc"].to_numpy(dtype=bool), "care", route)
    rc = np.where(rng.random(n) < 0.62, "RC8", "RC9")
    sim.book.add(
        "assessments",
        child=child,
        episode=tok["episode"].to_numpy(),
        start=start,
        auth=auth,
        support=route != "close",
        route_reason=np.where(route == "close", rc, ""),
    )
    tok = tok.assign(auth=auth)
    via = np.where(tok["uasc"].to_numpy(dtype=bool), "uasc", "emergency")
    return [
        ("s47", _carry(tok, route == "s47", _workday(rng, start + _uniform(rng, 0, 4, n)))),
        ("care", _carry(tok, route == "care", start + _uniform(rng, 0, 3, n), via=via)),
        ("cin_plan", _carry(tok, route == "cin", _workday(rng, auth + _uniform(rng, 0, 10, n)))),
        (
            "close",
            _carry(tok, route == "close", _workday(rng, auth + _uniform(rng, 0, 3, n)), reason=rc),
        ),
    ]


def _s47(sim: _Sim, tok: pd.DataFrame) -> Route:
    """A section 47 enquiry: an initial conference (counted in working days) or none, then a
    CP plan, a CIN plan or closure — never before the assessment is authorised."""
    rng, n = sim.rng, len(tok)
    start = tok["t"].to_numpy()
    auth = tok["auth"].to_numpy(dtype=float)
    icpc_held = rng.random(n) < np.where(tok["escalated"].to_numpy(dtype=bool), 0.5, P_ICPC)
    working_days = np.where(rng.random(n) < 0.72, _uniform(rng, 6, 15, n), _uniform(rng, 16, 35, n))
    icpc = np.where(icpc_held, _add_workdays(start, working_days), np.nan)
    concluded = np.where(icpc_held, icpc, _add_workdays(start, _uniform(rng, 7, 18, n)))
    not_required = ~icpc_held & (rng.random(n) < P_ICPC_NOT_REQUIRED)
    sim.book.add(
        "s47",
        child=tok["child"].to_numpy(),
        episode=tok["episode"].to_numpy(),
        start=start,
        icpc=icpc,
        concluded=concluded,
        not_required=not_required,
    )
    plan = icpc_held & (rng.random(n) < P_CPP)
    to_cin = ~plan & (rng.random(n) < np.where(icpc_held, 0.6, 0.35))
    after = _workday(rng, np.fmax(concluded, auth))
    reason = np.where(icpc_held | (rng.random(n) < 0.3), "RC7", "RC8")
    return [
        ("cp_plan", _carry(tok, plan, concluded)),
        ("cin_plan", _carry(tok, to_cin, after)),
        ("close", _carry(tok, ~plan & ~to_cin, after, reason=reason)),
    ]


def _review_dates(
    rng: np.random.Generator,
    start: np.ndarray,
    first: tuple[int, int],
    second: tuple[int, int] | None,
    later: tuple[int, int],
    late_share: float,
    columns: int,
) -> np.ndarray:
    """Review dates as a (rows × columns) matrix: first, maybe second, then regular ones.

    Each gap is usually within its range; ``late_share`` of them run up to 40% over.
    """
    n = len(start)
    ranges = [first] + ([second] if second else []) + [later] * columns
    gaps = np.column_stack(
        [
            np.where(
                rng.random(n) < late_share,
                _uniform(rng, hi + 1, hi * 1.4, n),
                _uniform(rng, lo, hi, n),
            )
            for lo, hi in ranges[:columns]
        ]
    )
    return _workday(rng, start[:, None] + np.cumsum(gaps, axis=1))


def _cp_plan(sim: _Sim, tok: pd.DataFrame) -> Route:
    """A CP plan from its conference: reviews at ~3 months then ~6-monthly; it ends at a review
    (stepping down to a CIN plan, or closing) or when the child comes into care."""
    rng, n = sim.rng, len(tok)
    child = tok["child"].to_numpy()
    start = tok["t"].to_numpy()
    previous = sim.plans_of[child] + sim.kid("prior_plans", child)
    np.add.at(sim.plans_of, child, 1)
    plan = sim.ids(n)
    reviews = _review_dates(rng, start, (56, 90), None, (150, 182), 0.11, 8)
    count = rng.choice(np.arange(1, 6), size=n, p=[0.3, 0.38, 0.2, 0.08, 0.04])
    end = reviews[np.arange(n), count - 1]
    outcome = _pick(rng, {"cin": 48, "close": 22, "care": 25, "transfer": 5}, n)
    care_at = _workday(rng, start + np.floor(rng.random(n) * (end - start - 20)) + 20)
    end = np.where(outcome == "care", care_at, end)
    b18 = sim.kid("b18", child)
    aged = end >= b18 - 1
    end = np.where(aged, b18 - 1, end)
    outcome = np.where(aged, "close", outcome)
    initial = _pick(rng, ABUSE, n)
    latest = np.where(rng.random(n) < 0.9, initial, _pick(rng, ABUSE, n))
    sim.book.add(
        "cpp",
        child=child,
        episode=tok["episode"].to_numpy(),
        plan=plan,
        start=start,
        end=end,
        abuse=initial,
        latest=latest,
        previous=previous,
    )
    held = reviews <= end[:, None]
    rows, _ = np.nonzero(held)
    sim.book.add("cpp_reviews", child=child[rows], plan=plan[rows], date=reviews[held])
    return [
        ("cin_plan", _carry(tok, outcome == "cin", end)),
        (
            "close",
            _carry(
                tok,
                np.isin(outcome, ["close", "transfer"]),
                end,
                reason=np.where(outcome == "transfer", "RC5", "RC7"),
            ),
        ),
        ("care", _carry(tok, outcome == "care", care_at, via="cp")),
    ]


def _cin_plan(sim: _Sim, tok: pd.DataFrame) -> Route:
    """A CIN plan: mostly ends and closes; some escalate to a section 47 enquiry (once per
    episode) or to care."""
    rng, n = sim.rng, len(tok)
    child = tok["child"].to_numpy()
    start = _workday(rng, tok["t"].to_numpy())
    length = np.clip(_lognormal(rng, 190, 0.6, n), 42, 1000)
    outcome = _pick(rng, {"close": 77, "s47": 10, "care": 8, "transfer": 5}, n)
    outcome = np.where((outcome == "s47") & tok["escalated"].to_numpy(dtype=bool), "close", outcome)
    event = _workday(rng, start + 28 + np.floor(rng.random(n) * (length - 28)))
    end = np.where(np.isin(outcome, ["s47", "care"]), event, _workday(rng, start + length))
    b18 = sim.kid("b18", child)
    aged = end >= b18 - 1
    end = np.where(aged, b18 - 1, end)
    outcome = np.where(aged, "close", outcome)
    sim.book.add("cin_plans", child=child, episode=tok["episode"].to_numpy(), start=start, end=end)
    closing = np.isin(outcome, ["close", "transfer"])
    return [
        ("close", _carry(tok, closing, end, reason=np.where(outcome == "transfer", "RC5", "RC7"))),
        ("s47", _carry(tok, outcome == "s47", end, escalated=True)),
        ("care", _carry(tok, outcome == "care", event, via="cin")),
    ]


def _care(sim: _Sim, tok: pd.DataFrame) -> Route:
    """A period of care: how it will end, legal statuses, adoption, placements, reviews."""
    rng, n = sim.rng, len(tok)
    child = tok["child"].to_numpy()
    start = tok["t"].to_numpy()
    via = tok["via"].to_numpy()
    b18 = sim.kid("b18", child)
    band = np.digitize((sim.kid("age0", child) + start) / YEAR, [1, 5, 10, 16])
    band = np.where(via == "uasc", 5, band)
    weights = OUTCOME_WEIGHTS[band] / OUTCOME_WEIGHTS[band].sum(1, keepdims=True)
    outcome = np.array(OUTCOMES, dtype=object)[
        (rng.random(n)[:, None] > np.cumsum(weights, 1)).sum(1)
    ]
    end = np.full(n, np.inf)  # "stay": looked after until 18
    for name, (median, sigma) in {
        "sgo": (520, 0.35),
        "cao": (450, 0.35),
        "home": (200, 0.9),
        "other": (200, 0.8),
    }.items():
        rows = outcome == name
        end[rows] = start[rows] + np.maximum(_lognormal(rng, median, sigma, int(rows.sum())), 8)
    end = np.where(
        np.isin(outcome, ["home", "other"]), _mostly_workday(rng, end, 0.7), _workday(rng, end)
    )

    # legal status: emergency protection for some, then proceedings (interim, then final order)
    legal = _pick_by(rng, LEGAL_START, via)
    wants_adoption = outcome == "adoption"
    consent = wants_adoption & (legal == "V2") & (rng.random(n) < 0.3)
    changes: list[tuple[np.ndarray, np.ndarray]] = []
    emergency = np.isin(legal, ["L1", "L2"])
    protect = np.where(
        np.isin(outcome, ["adoption", "sgo", "stay"]) | (rng.random(n) < 0.6), "C1", "V2"
    )
    when = _workday(rng, start + _uniform(rng, 1, 8, n))
    changes.append((np.where(emergency, when, np.nan), protect))
    current = np.where(emergency, protect, legal)
    since = np.where(emergency, when, start)
    to_court = (
        (current == "V2")
        & ~consent
        & (via != "uasc")
        & (
            wants_adoption
            | (
                np.isin(outcome, ["sgo", "cao", "stay"])
                & (rng.random(n) < np.where(band >= 4, 0.5, 0.9))
            )
        )
    )
    when = _workday(rng, since + _uniform(rng, 30, 240, n))
    changes.append((np.where(to_court, when, np.nan), np.full(n, "C1", dtype=object)))
    proceedings = (current == "C1") | to_court
    final = _workday(rng, np.where(to_court, when, since) + _lognormal(rng, 200, 0.3, n))

    # adoption: decision, placement order at the final hearing, match, placement, order;
    # some decisions are reversed (before placement) and the child stays or gets an SGO
    decision = _workday(
        rng, start + np.where(consent, _lognormal(rng, 120, 0.4, n), _lognormal(rng, 190, 0.3, n))
    )
    final = np.where(
        wants_adoption & ~consent,
        np.maximum(final, _workday(rng, decision + _uniform(rng, 14, 60, n))),
        final,
    )
    matched = _workday(
        rng,
        np.where(consent, decision, final) + _lognormal(rng, np.where(consent, 120, 150), 0.5, n),
    )
    placed = _workday(rng, matched + _uniform(rng, 7, 42, n))
    adopted = _workday(rng, placed + _lognormal(rng, 215, 0.3, n))
    ceased = _workday(rng, decision + _uniform(rng, 120, 480, n))
    reversed_ = wants_adoption & (rng.random(n) < P_ADOPTION_CEASED) & (ceased < placed)
    ceased = np.where(reversed_, ceased, np.nan)
    order_made = wants_adoption & ~consent & ~(reversed_ & (ceased < final))
    ceased_reason = np.where(order_made, _pick(rng, {"RD1": 40, "RD3": 35, "RD4": 25}, n), "RD2")
    ceased_reason = np.where(reversed_, ceased_reason, "")
    outcome = np.where(reversed_, np.where(rng.random(n) < 0.5, "sgo", "stay"), outcome)
    end = np.where(
        reversed_,
        np.where(outcome == "sgo", _workday(rng, ceased + _lognormal(rng, 300, 0.4, n)), np.inf),
        end,
    )
    adopting = outcome == "adoption"
    end = np.where(adopting, adopted, end)
    matched, placed = np.where(adopting, matched, np.nan), np.where(adopting, placed, np.nan)
    decision = np.where(wants_adoption, decision, np.nan)

    # SGOs, CAOs and many returns home are made at the final hearing instead of a care order
    at_final = (
        proceedings
        & np.isin(outcome, ["sgo", "cao", "home"])
        & ~reversed_
        & (rng.random(n) < np.where(outcome == "home", 0.5, 0.7))
    )
    end = np.where(at_final, final, end)
    changes.append((np.where(proceedings, final, np.nan), np.where(order_made, "E1", "C2")))

    # a child still looked after at 18 leaves care on the birthday
    aged_out = end >= b18
    end = np.where(aged_out, b18, end)
    outcome = np.where(aged_out, "stay", outcome)
    rec = _pick_by(
        rng, REC, np.where((outcome == "other") & (via == "uasc"), "other_uasc", outcome)
    )

    period = sim.ids(n)
    disabled = sim.kid("disabled", child)
    need = _pick_by(rng, NEED_CARE, via)
    need = np.where(disabled & (via == "cin") & (rng.random(n) < 0.6), "N2", need)
    first_place = _pick_by(rng, PLACE_START, band)
    first_place = np.where(wants_adoption & (band <= 1) & (rng.random(n) < 0.3), "U5", first_place)
    sim.book.add(
        "periods",
        child=child,
        episode=tok["episode"].to_numpy(),
        period=period,
        start=start,
        end=end,
        outcome=outcome,
        rec=rec,
        need=need,
        via=via,
        decision=decision,
        order=np.where(order_made, final, np.nan),
        matched=matched,
        placed=placed,
        adopted=np.where(adopting, end, np.nan),
        ceased=ceased,
        ceased_reason=ceased_reason,
        ffa=np.where(first_place == "U5", start, np.nan),
    )
    _placements(
        sim, period, child, start, end, band, outcome, legal, first_place, changes, placed, consent
    )
    _reviews_and_missing(sim, period, child, start, end, band)

    reason = np.array([CLOSURE_AFTER_CARE[o] for o in outcome], dtype=object)
    reason = np.where(rec == "E3", "RC5", reason)
    reason = np.where(aged_out & disabled, "RC6", reason)
    home_plan = (outcome == "home") & (rng.random(n) < 0.45)
    done = np.where(aged_out, end, _workday(rng, end))  # care ends on the 18th birthday itself
    return [
        ("cin_plan", _carry(tok, home_plan, done)),
        ("close", _carry(tok, ~home_plan, done, reason=reason)),
    ]


def _placements(
    sim: _Sim,
    period: np.ndarray,
    child: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    band: np.ndarray,
    outcome: np.ndarray,
    legal: np.ndarray,
    first_place: np.ndarray,
    legal_changes: list[tuple[np.ndarray, np.ndarray]],
    placed: np.ndarray,
    consent: np.ndarray,
) -> None:
    """Turn legal status changes and placement moves into a chain of SSDA903 episodes."""
    rng, n = sim.rng, len(period)
    age0 = sim.kid("age0", child)
    last_move = np.fmin(end, placed)
    rows: list[pd.DataFrame] = [
        pd.DataFrame(
            {
                "period": period,
                "time": start,
                "kind": 0,
                "ls": legal,
                "place": first_place,
                "same_carer": False,
                "reason": None,
            }
        )
    ]
    for when, status in legal_changes:
        rows.append(
            pd.DataFrame(
                {
                    "period": period,
                    "time": when,
                    "kind": 1,
                    "ls": status,
                    "place": None,
                    "same_carer": False,
                    "reason": None,
                }
            )
        )
    # moves: one early settling move for some, then a steady rate that rises with age
    count = np.minimum(rng.poisson(np.array(MOVES_PER_YEAR)[band] * (last_move - start) / YEAR), 15)
    settle = rng.random(n) < 0.35
    who = np.concatenate([np.repeat(np.arange(n), count), np.nonzero(settle)[0]])
    span = (last_move - start)[who]
    when = np.concatenate(
        [
            start[who[: count.sum()]] + np.floor(rng.random(count.sum()) * span[: count.sum()]),
            start[settle] + _uniform(rng, 3, 60, int(settle.sum())),
        ]
    )
    when = _mostly_workday(rng, when, 0.85)
    move_band = np.digitize((age0[who] + when) / YEAR, [1, 5, 10, 16])
    move_band = np.where(band[who] == 5, 5, move_band)
    place = _pick_by(rng, PLACE_MOVE, move_band)
    rows.append(
        pd.DataFrame(
            {
                "period": period[who],
                "time": when,
                "kind": 2,
                "ls": None,
                "place": place,
                "same_carer": False,
                "reason": _pick(rng, CHANGE_REASON, len(who)),
            }
        )
    )
    # long-stay foster placements confirmed long term (same carer, new code)
    confirm = (outcome == "stay") & (rng.random(n) < 0.55)
    rows.append(
        pd.DataFrame(
            {
                "period": period[confirm],
                "time": _workday(rng, start[confirm] + _uniform(rng, 270, 600, int(confirm.sum()))),
                "kind": 2,
                "ls": None,
                "place": "LONG_TERM",
                "same_carer": True,
                "reason": "PLACE",
            }
        )
    )
    # placed for adoption: with the current (fostering-for-adoption) carers or new ones
    adopt = ~np.isnan(placed)
    rows.append(
        pd.DataFrame(
            {
                "period": period[adopt],
                "time": placed[adopt],
                "kind": 2,
                "ls": None,
                "place": np.where(consent[adopt], "A3_4", "A5_6"),
                "same_carer": None,
                "reason": "CARPL",
            }
        )
    )
    changes = pd.concat(rows, ignore_index=True)
    bounds = pd.DataFrame({"period": period, "start": start, "end": end})
    changes = changes.merge(bounds, on="period")
    changes = changes[
        (changes["kind"] == 0)
        | ((changes["time"] > changes["start"]) & (changes["time"] < changes["end"]))
    ]
    changes = changes.sort_values(["period", "time", "kind"], kind="stable")
    # same-day changes are one episode: a legal change and a move on one day is B or U
    episodes = (
        changes.groupby(["period", "time"], sort=False)
        .agg(
            kind=("kind", "min"),
            ls=("ls", "last"),
            place=("place", "last"),
            same_carer=("same_carer", "last"),
            reason=("reason", "last"),
            start=("start", "first"),
            end=("end", "first"),
        )
        .reset_index()
    )
    real = episodes["place"].where(~episodes["place"].isin(["LONG_TERM", "A3_4", "A5_6"]))
    before = real.groupby(episodes["period"]).ffill().groupby(episodes["period"]).shift()
    place = episodes["place"].to_numpy(dtype=object)
    prior = before.to_numpy(dtype=object)
    with_carer = np.isin(prior, ["U5", "U2"]) | (rng.random(len(place)) < 0.15)
    # confirming as long term needs a short-term foster placement to confirm (else no change)
    place = np.where(
        place == "LONG_TERM", np.array([LONG_TERM.get(p) for p in prior], dtype=object), place
    )
    place = np.where(place == "A5_6", np.where(with_carer, "A5", "A6"), place)
    place = np.where(place == "A3_4", np.where(with_carer, "A3", "A4"), place)
    adoption_move = np.isin(place, ["A3", "A4", "A5", "A6"])
    same = episodes["same_carer"].to_numpy(dtype=object)
    same = np.where(adoption_move, with_carer, same).astype(bool)
    episodes["place"] = place
    episodes = episodes[
        episodes["ls"].notna() | episodes["place"].notna() | (episodes["kind"] == 0)
    ].copy()
    episodes["same_carer"] = same[episodes.index]
    ls_changed = episodes["ls"].notna().to_numpy() & (episodes["kind"] != 0).to_numpy()
    moved = episodes["place"].notna().to_numpy() & (episodes["kind"] != 0).to_numpy()
    same = episodes["same_carer"].to_numpy(dtype=bool)
    episodes["rne"] = np.select(
        [episodes["kind"].to_numpy() == 0, ls_changed & moved, moved, ls_changed],
        ["S", np.where(same, "U", "B"), np.where(same, "T", "P"), "L"],
        default="L",
    )
    episodes["new_placement"] = episodes["place"].notna()
    grouped = episodes.groupby("period")
    episodes["ls"] = grouped["ls"].ffill()
    episodes["place"] = grouped["place"].ffill()
    episodes["dec"] = grouped["time"].shift(-1).fillna(episodes["end"])
    episodes["last"] = grouped["time"].shift(-1).isna()
    next_rne = grouped["rne"].shift(-1)
    next_reason = grouped["reason"].shift(-1)
    episodes["reason"] = np.where(next_rne.isin(["P", "T", "B", "U"]), next_reason, None)
    # provider, URN and postcode belong to a placement and last while it does
    k = len(episodes)
    code = episodes["place"].to_numpy(dtype=object)
    letter = np.array([c[0] for c in code], dtype=object)
    provider = _pick_by(rng, PROVIDER, np.where(np.isin(code, ["U1", "U2", "U3"]), "kin", letter))
    letter = np.where(code == "R3", "K", letter)  # a mother and baby unit is registered too
    pools = {
        key: np.array([f"SC{v:06d}" for v in rng.integers(400000, 999999, size)])
        for key, size in URN_POOL.items()
    }
    urn = np.full(k, "XXXXXXX", dtype=object)
    for key, pool in pools.items():
        registered = letter == key
        urn[registered] = pool[rng.integers(0, len(pool), int(registered.sum()))]
    fresh = episodes["new_placement"].to_numpy()
    episodes["provider"] = np.where(fresh, provider, None)
    episodes["urn"] = np.where(fresh, urn, None)
    episodes["pl_post"] = np.where(fresh, _postcodes(rng, k), None)
    for column in ("provider", "urn", "pl_post"):
        episodes[column] = episodes.groupby("period")[column].ffill()
    sim.book.add("placements", **{c: episodes[c].to_numpy() for c in _COLUMNS["placements"]})


def _reviews_and_missing(
    sim: _Sim,
    period: np.ndarray,
    child: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    band: np.ndarray,
) -> None:
    """Statutory reviews (20 working days, 3 months, then 6-monthly) and missing episodes."""
    rng, n = sim.rng, len(period)
    columns = int(np.ceil(float((end - start).max(initial=0)) / 140)) + 3
    reviews = _review_dates(rng, start, (10, 28), (60, 91), (140, 182), 0.12, columns)
    held = reviews < end[:, None]
    rows, _ = np.nonzero(held)
    dates = reviews[held]
    age = (sim.kid("age0", child)[rows] + dates) / YEAR
    code = np.where(age < 4, "PN0", _pick(rng, REVIEW_CODE, len(rows)))
    sim.book.add("cla_reviews", child=child[rows], period=period[rows], date=dates, code=code)
    # missing: a minority of older children go missing repeatedly
    misser = (band >= 3) & (rng.random(n) < 0.3)
    rate = np.where(misser, 2.5, np.where(band >= 3, 0.1, 0.0)) / YEAR
    active = np.nonzero(rate > 0)[0]
    if not len(active):
        return
    gaps = rng.exponential(1.0, (len(active), 30)) / rate[active, None]
    length = np.where(
        rng.random((len(active), 30)) < 0.75,
        rng.integers(0, 2, (len(active), 30)),
        rng.integers(2, 8, (len(active), 30)),
    )
    begin = start[active, None] + np.floor(np.cumsum(gaps, 1) + np.cumsum(length, 1) - length) + 1
    stop = np.minimum(begin + length, end[active, None])
    held = begin < end[active, None]
    rows, _ = np.nonzero(held)
    sim.book.add(
        "missing",
        child=child[active][rows],
        period=period[active][rows],
        start=begin[held],
        end=stop[held],
        kind=np.where(rng.random(len(rows)) < 0.75, "M", "A"),
    )


def _close(sim: _Sim, tok: pd.DataFrame) -> Route:
    """An episode closes: some go on to early help, some come back as a new referral later."""
    rng, n = sim.rng, len(tok)
    child = tok["child"].to_numpy()
    t = tok["t"].to_numpy()
    reason = tok["reason"].to_numpy(dtype=object)
    sim.book.add("closures", episode=tok["episode"].to_numpy(), close=t, reason=reason)
    eh = reason == "RC9"
    eh_start = _workday(rng, t + _uniform(rng, 1, 14, n))
    sim.book.add(
        "early_help",
        child=child[eh],
        start=eh_start[eh],
        end=_workday(rng, eh_start + _lognormal(rng, 55, 0.4, n))[eh],
        org=rng.choice(EH_ORGANISATION, int(eh.sum())),
    )
    again = (
        ~np.isin(reason, ["RC1", "RC5", "RC6"])
        & (sim.kid("age0", child) + t < 17 * YEAR)
        & (sim.episodes_of[child] < 4)
        & (rng.random(n) < P_REREFERRAL)
    )
    gap = np.clip(_lognormal(rng, 120, 0.9, n), 10, 1500)
    return [("referral", _carry(tok, again, t + gap))]


_STAGES: dict[str, Callable[[_Sim, pd.DataFrame], Route]] = {
    "referral": _referral,
    "assessment": _assessment,
    "s47": _s47,
    "cp_plan": _cp_plan,
    "cin_plan": _cin_plan,
    "care": _care,
    "close": _close,
}

_COLUMNS = {
    "episodes": ["child", "episode", "ref", "source", "nfa", "uasc"],
    "contacts": ["child", "date", "source"],
    "early_help": ["child", "start", "end", "org"],
    "assessments": ["child", "episode", "start", "auth", "support", "route_reason"],
    "s47": ["child", "episode", "start", "icpc", "concluded", "not_required"],
    "cpp": ["child", "episode", "plan", "start", "end", "abuse", "latest", "previous"],
    "cpp_reviews": ["child", "plan", "date"],
    "cin_plans": ["child", "episode", "start", "end"],
    "periods": [
        "child",
        "episode",
        "period",
        "start",
        "end",
        "outcome",
        "rec",
        "need",
        "via",
        "decision",
        "order",
        "matched",
        "placed",
        "adopted",
        "ceased",
        "ceased_reason",
        "ffa",
    ],
    "placements": [
        "period",
        "time",
        "dec",
        "last",
        "rne",
        "ls",
        "place",
        "provider",
        "urn",
        "pl_post",
        "reason",
    ],
    "cla_reviews": ["child", "period", "date", "code"],
    "missing": ["child", "period", "start", "end", "kind"],
    "closures": ["episode", "close", "reason"],
}


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Postcode-shaped strings in areas that do not exist (no UK area starts Q, V or X)."""
    letters = list("ABDEFGHJLNPQRSTUWXYZ")
    area, second = rng.choice(["Q", "V", "X"], n), rng.choice(letters, n)
    district, sector = rng.integers(1, 30, n), rng.integers(1, 10, n)
    unit = rng.choice(letters, (n, 2))
    return np.array(
        [
            f"{a}{b}{d} {s}{u[0]}{u[1]}"
            for a, b, d, s, u in zip(area, second, district, sector, unit)
        ],
        dtype=object,
    )


def _candidates(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Children before they are placed in time: who they are and how old they start."""
    band = rng.choice(
        len(AGE_BANDS), n, p=np.array([b[0] for b in AGE_BANDS]) / sum(b[0] for b in AGE_BANDS)
    )
    low = np.array([b[1] for b in AGE_BANDS])[band]
    high = np.array([b[2] for b in AGE_BANDS])[band]
    age0 = np.floor((low + rng.random(n) * (high - low)) * YEAR)
    uasc = (age0 >= 14.5 * YEAR) & (rng.random(n) < P_UASC)
    referred = uasc | (rng.random(n) < P_REFERRED)
    disabled = rng.random(n) < 0.09
    return pd.DataFrame(
        {
            "age0": age0,
            "b18": DAYS_TO_18 - age0,
            "uasc": uasc,
            "referred": referred,
            "disabled": disabled,
            "prior_plans": (rng.random(n) < 0.1).astype(int),
        }
    )


def _simulate(rng: np.random.Generator, kids: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every candidate's whole journey, in days from its start (a Monday)."""
    n = len(kids)
    sim = _Sim(
        rng=rng, kids=kids, book=_Book(), episodes_of=np.zeros(n, int), plans_of=np.zeros(n, int)
    )
    # day 0 is the Monday of the week the journey starts
    referred = np.nonzero(kids["referred"].to_numpy())[0]
    queue: dict[str, list[pd.DataFrame]] = {
        "referral": [
            pd.DataFrame(
                {
                    "child": referred,
                    "episode": -1,
                    "auth": np.nan,
                    "escalated": False,
                    "t": _uniform(rng, 0, 6, len(referred)),
                }
            )
        ]
    }
    # children who only ever reach the front door: a few contacts, sometimes early help
    only = np.nonzero(~kids["referred"].to_numpy())[0]
    count = 1 + np.minimum(rng.poisson(1.2, len(only)), 7)
    who = np.repeat(only, count)
    first = np.r_[True, who[1:] != who[:-1]]
    when = _mostly_workday(
        rng, np.where(first, _uniform(rng, 0, 6, len(who)), _uniform(rng, 7, 420, len(who))), 0.75
    )
    sim.book.add("contacts", child=who, date=when, source=_pick(rng, REFERRAL_SOURCE, len(who)))
    helped = first & (rng.random(len(who)) < 0.18)
    eh_start = _workday(rng, when[helped] + _uniform(rng, 1, 21, int(helped.sum())))
    sim.book.add(
        "early_help",
        child=who[helped],
        start=eh_start,
        end=_workday(rng, eh_start + _lognormal(rng, 55, 0.4, len(eh_start))),
        org=rng.choice(EH_ORGANISATION, len(eh_start)),
    )
    for _ in range(200):
        pending = {k: pd.concat(v, ignore_index=True) for k, v in queue.items() if v}
        pending = {k: v for k, v in pending.items() if len(v)}
        if not pending:
            break
        queue = defaultdict(list)
        for stage, handler in _STAGES.items():
            if stage in pending:
                for target, frame in handler(sim, pending[stage]):
                    queue[target].append(frame)
    else:  # pragma: no cover - the stages always end in a closure
        raise RuntimeError("synthetic journeys did not finish")
    return {name: sim.book.frame(name, cols) for name, cols in _COLUMNS.items()}


def _visible_spans(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """For each candidate, the spans of 'days before the reference date that its journey
    began' at which some return would see it, merged so they do not overlap."""
    episodes = tables["episodes"].merge(tables["closures"], on="episode", how="left")
    parts = [
        pd.DataFrame(
            {"child": episodes["child"], "lo": episodes["ref"], "hi": episodes["close"] + SEEN_CIN}
        ),
        pd.DataFrame(
            {
                "child": tables["contacts"]["child"],
                "lo": tables["contacts"]["date"],
                "hi": tables["contacts"]["date"] + SEEN_CONTACT,
            }
        ),
        pd.DataFrame(
            {
                "child": tables["early_help"]["child"],
                "lo": tables["early_help"]["start"],
                "hi": tables["early_help"]["end"] + SEEN_CONTACT,
            }
        ),
    ]
    spans = pd.concat(parts, ignore_index=True).astype({"child": int, "lo": float, "hi": float})
    spans["hi"] = spans["hi"].clip(upper=MAX_BACK)
    spans = spans[spans["lo"] <= spans["hi"]].sort_values(["child", "lo"], kind="stable")
    reach = spans.groupby("child")["hi"].cummax()
    reach_before = reach.groupby(spans["child"]).shift()
    block = (reach_before.isna() | (spans["lo"] > reach_before)).cumsum()
    merged = spans.groupby(block).agg(child=("child", "first"), lo=("lo", "min"), hi=("hi", "max"))
    merged["length"] = merged["hi"] - merged["lo"] + 1
    return merged.reset_index(drop=True)


def _place_in_time(
    rng: np.random.Generator, spans: pd.DataFrame, candidates: int, children: int
) -> tuple[np.ndarray, np.ndarray]:
    """Choose the children (length-biased) and, for each, how many days before the reference
    date its journey began (uniform over the days at which it would be seen)."""
    weight = spans.groupby("child")["length"].sum().reindex(range(candidates), fill_value=0.0)
    chosen = rng.choice(
        candidates, size=children, replace=False, p=(weight / weight.sum()).to_numpy()
    )
    own = spans[spans["child"].isin(chosen)].copy()
    target = pd.Series(rng.random(children) * weight.to_numpy()[chosen], index=chosen)
    own["upto"] = own.groupby("child")["length"].cumsum()
    own["target"] = own["child"].map(target)
    hit = own[own["upto"] >= own["target"]].groupby("child").first()
    offset = hit["lo"] + np.floor(hit["target"] - (hit["upto"] - hit["length"]))
    return chosen, offset.reindex(chosen).to_numpy()


# ---------------------------------------------------------------------------------------
# From relative days to the returns' dates


@dataclass
class _Pool:
    """The kept children and their records, in real dates, as the reference date sees them."""

    kids: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    reference: np.datetime64
    year_start: np.datetime64  # the collection year (and Annex A list 10's twelve months)
    six_months: np.datetime64  # Annex A lists 1–8


_DATES = {
    "episodes": ["ref"],
    "contacts": ["date"],
    "early_help": ["start", "end"],
    "assessments": ["start", "auth"],
    "s47": ["start", "icpc", "concluded"],
    "cpp": ["start", "end"],
    "cpp_reviews": ["date"],
    "cin_plans": ["start", "end"],
    "periods": [
        "start",
        "end",
        "decision",
        "order",
        "matched",
        "placed",
        "adopted",
        "ceased",
        "ffa",
    ],
    "placements": ["time", "dec"],
    "cla_reviews": ["date"],
    "missing": ["start", "end"],
    "closures": ["close"],
}


def _to_dates(days: pd.Series, t0: np.ndarray) -> np.ndarray:
    """Relative days (NaN for none) of each row's child as datetime64[D] (NaT for none)."""
    values = days.to_numpy(dtype=float)
    known = np.isfinite(values)
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[D]")
    out[known] = t0[known] + values[known].astype("int64")
    return out


def _build_pool(rng: np.random.Generator, children: int, reference: date) -> _Pool:
    """Simulate candidates, keep ``children`` of them, put their journeys in real dates."""
    candidates = children * CANDIDATES_PER_CHILD
    kids = _candidates(rng, candidates)
    tables = _simulate(rng, kids)
    chosen, offset = _place_in_time(rng, _visible_spans(tables), candidates, children)
    ref = np.datetime64(reference, "D")
    t0 = ref - offset.astype("int64")
    t0 = t0 - ((t0.astype("int64") + 3) % 7)  # back to a Monday, as the simulation assumed
    new = pd.Series(np.arange(children), index=chosen)

    # carry the child into the tables that only know an episode or a period
    tables["closures"] = tables["closures"].merge(
        tables["episodes"][["episode", "child"]], on="episode"
    )
    tables["placements"] = tables["placements"].merge(
        tables["periods"][["period", "child", "rec", "need"]], on="period"
    )
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        frame = frame[frame["child"].isin(chosen)].copy()
        frame["child"] = frame["child"].map(new).astype(int)
        start_of = t0[frame["child"].to_numpy()]
        for column in _DATES[name]:
            frame[column] = _to_dates(frame[column].replace([np.inf], np.nan), start_of)
        out[name] = frame.reset_index(drop=True)

    kids = kids.iloc[chosen].reset_index(drop=True)
    kids["dob"] = t0 - kids["age0"].to_numpy().astype("int64")
    kids["birthday18"] = (
        (pd.DatetimeIndex(kids["dob"]) + pd.DateOffset(years=18)).to_numpy().astype("datetime64[D]")
    )
    _describe_children(rng, kids, ref)
    _exact_eighteenth(out, kids)
    # supported accommodation is H5 before its regulation, K3 from then on
    place = out["placements"]["place"].to_numpy(dtype=object)
    sa = place == "SA"
    place[sa] = np.where(out["placements"]["time"].to_numpy()[sa] < K3_FROM, "H5", "K3")
    out["placements"]["place"] = place
    _cut_at(out, ref)

    def back(offset: pd.DateOffset) -> np.datetime64:
        """The first day of the period of that length that ends on the reference date."""
        return np.datetime64((pd.Timestamp(ref) - offset + pd.Timedelta(days=1)).date(), "D")

    return _Pool(
        kids=kids,
        tables=out,
        reference=ref,
        year_start=back(pd.DateOffset(years=1)),
        six_months=back(pd.DateOffset(months=6)),
    )


def _describe_children(rng: np.random.Generator, kids: pd.DataFrame, ref: np.datetime64) -> None:
    """Identifiers and characteristics: made up, in the shapes the returns use."""
    n = len(kids)
    span = max(300_000, 3 * n)
    width = max(6, len(str(span)))
    numbers = rng.choice(np.arange(1_000, span), size=n, replace=False)
    kids["id"] = [str(v).zfill(width) for v in numbers]
    kids["upn"] = ["A" + "".join(map(str, d)) for d in rng.integers(0, 10, (n, 12))]
    young = (ref - kids["dob"].to_numpy()).astype("int64") < 5 * YEAR
    kids["upn_unknown"] = np.where(young & (rng.random(n) < 0.8), "UN1", "")
    uasc = kids["uasc"].to_numpy()
    kids["sex"] = np.where(
        uasc,
        np.where(rng.random(n) < 0.92, "M", "F"),
        _pick(rng, {"M": 51, "F": 48.7, "U": 0.3}, n),
    )
    kids["ethnicity"] = np.where(uasc, _pick(rng, ETHNICITY_UASC, n), _pick(rng, ETHNICITY, n))
    first = _pick(rng, DISABILITY, n)
    second = np.where(rng.random(n) < 0.3, _pick(rng, DISABILITY, n), "")
    codes = [sorted({a, b} - {""}) for a, b in zip(first, second)]
    kids["disabilities"] = [c if d else [] for c, d in zip(codes, kids["disabled"])]
    kids["home_post"] = _postcodes(rng, n)
    age = (ref - kids["dob"].to_numpy()).astype("int64") / YEAR
    kids["mother"] = np.where(
        (kids["sex"] == "F") & (age >= 12),
        np.where((age >= 15) & (rng.random(n) < 0.03), "1", "0"),
        "",
    )
    kids["mc_dob"] = np.where(
        kids["mother"] == "1", ref - _uniform(rng, 20, 300, n).astype("int64"), np.datetime64("NaT")
    ).astype("datetime64[D]")


def _exact_eighteenth(tables: dict[str, pd.DataFrame], kids: pd.DataFrame) -> None:
    """A child still looked after at 18 leaves care on the birthday itself, not about then."""
    periods = tables["periods"]
    aged = (periods["outcome"] == "stay").to_numpy() & ~np.isnat(periods["end"].to_numpy())
    birthday = kids["birthday18"].to_numpy()[periods["child"].to_numpy()]
    if not aged.any():
        return
    periods.loc[aged, "end"] = birthday[aged]
    ends = periods.loc[aged, ["period", "episode", "end"]]
    placements = tables["placements"]
    last = (
        placements["last"].to_numpy(dtype=bool)
        & placements["period"].isin(ends["period"]).to_numpy()
    )
    placements.loc[last, "dec"] = (
        placements.loc[last, "period"].map(ends.set_index("period")["end"]).to_numpy()
    )
    closures = tables["closures"]
    hit = closures["episode"].isin(ends["episode"]).to_numpy()
    closures.loc[hit, "close"] = (
        closures.loc[hit, "episode"].map(ends.set_index("episode")["end"]).to_numpy()
    )


def _cut_at(tables: dict[str, pd.DataFrame], ref: np.datetime64) -> None:
    """Drop what starts after the reference date; blank what ends after it (still open)."""

    def later(frame: pd.DataFrame, column: str) -> np.ndarray:
        values = frame[column].to_numpy()
        return ~np.isnat(values) & (values > ref)

    starts = {
        "episodes": "ref",
        "contacts": "date",
        "early_help": "start",
        "assessments": "start",
        "s47": "start",
        "cpp": "start",
        "cpp_reviews": "date",
        "cin_plans": "start",
        "periods": "start",
        "placements": "time",
        "cla_reviews": "date",
        "missing": "start",
        "closures": "close",
    }
    for name, column in starts.items():
        frame = tables[name]
        tables[name] = frame[~later(frame, column)].reset_index(drop=True)
    blanks = {
        "early_help": ["end"],
        "assessments": ["auth"],
        "s47": ["icpc"],
        "cpp": ["end"],
        "cin_plans": ["end"],
        "missing": ["end"],
        "periods": ["end", "decision", "order", "matched", "placed", "adopted", "ceased", "ffa"],
        "placements": ["dec"],
    }
    for name, columns in blanks.items():
        frame = tables[name]
        for column in columns:
            frame.loc[later(frame, column), column] = np.datetime64("NaT")
    s47 = tables["s47"]
    s47.loc[later(s47, "concluded"), "not_required"] = False
    periods = tables["periods"]
    periods.loc[np.isnat(periods["end"].to_numpy()), ["rec", "outcome"]] = [None, "open"]
    periods.loc[np.isnat(periods["ceased"].to_numpy()), "ceased_reason"] = ""
    placements = tables["placements"]
    open_ = np.isnat(placements["dec"].to_numpy())
    placements.loc[open_, ["reason"]] = None
    placements["rec"] = np.where(placements["last"].to_numpy(dtype=bool), placements["rec"], "X1")
    placements.loc[open_, "rec"] = None


# ---------------------------------------------------------------------------------------
# Formatting


def _dmy(values: np.ndarray | pd.Series) -> np.ndarray:
    """dd/mm/YYYY text, empty for no date (SSDA903 and Annex A)."""
    text = pd.Series(np.asarray(values, dtype="datetime64[D]")).dt.strftime("%d/%m/%Y")
    return text.fillna("").to_numpy(dtype=object)


def _iso(values: np.ndarray | pd.Series) -> np.ndarray:
    """YYYY-MM-DD text, empty for no date (CIN census)."""
    days = np.asarray(values, dtype="datetime64[D]")
    return np.where(np.isnat(days), "", np.datetime_as_string(days, unit="D")).astype(object)


def _element(tag: str, text: pd.Series | np.ndarray, indent: int) -> np.ndarray:
    """``<tag>text</tag>`` lines, or nothing where the text is empty."""
    values = pd.Series(np.asarray(text, dtype=object)).fillna("").astype(str)
    lines = "  " * indent + f"<{tag}>" + values.map(escape) + f"</{tag}>\n"
    return np.where(values.to_numpy() != "", lines.to_numpy(), "").astype(object)


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise text concatenation (object arrays: no fixed-width copies of long texts)."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = out + (part if isinstance(part, str) else np.asarray(part, dtype=object))
    return out


def _wrap(tag: str, indent: int, inner: np.ndarray, *, optional: bool = False) -> np.ndarray:
    """Each inner text between ``<tag>`` and ``</tag>`` lines; if optional, none around ''."""
    pad = "  " * indent
    out = _cat(f"{pad}<{tag}>\n", inner, f"{pad}</{tag}>\n")
    return np.where(inner == "", "", out).astype(object) if optional else out


def _nest(texts: np.ndarray, keys: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Concatenate element texts by parent key ('' for a parent without any).

    The texts come sorted so that each key's texts are contiguous and in document order.
    """
    keys = np.asarray(keys)
    if not len(keys):
        return np.full(len(parents), "", dtype=object)
    first = np.r_[0, np.nonzero(keys[1:] != keys[:-1])[0] + 1]
    joined = pd.Series(np.add.reduceat(np.asarray(texts, dtype=object), first), index=keys[first])
    return joined.reindex(parents).fillna("").to_numpy(dtype=object)


def _years(born: np.ndarray, on: np.ndarray | np.datetime64) -> np.ndarray:
    """Whole years of age on a date."""
    b = pd.DatetimeIndex(born)
    d = pd.DatetimeIndex(np.broadcast_to(np.asarray(on, dtype="datetime64[D]"), born.shape))
    return (
        d.year - b.year - ((d.month < b.month) | ((d.month == b.month) & (d.day < b.day)))
    ).to_numpy()


# ---------------------------------------------------------------------------------------
# The CIN census


def _cin_need(pool: _Pool, rng: np.random.Generator) -> pd.Series:
    """Primary need per CIN episode: from its care period, else its depth, else drawn."""
    t = pool.tables
    episodes = t["episodes"]
    n = len(episodes)
    need = pd.Series(_pick(rng, NEED, n), index=episodes["episode"].to_numpy())
    closed_nfa = t["assessments"].loc[t["assessments"]["route_reason"] == "RC8", "episode"]
    nine = need.index.isin(closed_nfa.to_numpy()) & (rng.random(n) < 0.6)
    need[nine] = "N9"
    protected = need.index.isin(t["cpp"]["episode"].to_numpy()) & (rng.random(n) < 0.85)
    need[protected] = "N1"
    care = t["periods"].drop_duplicates("episode").set_index("episode")["need"]
    need.update(care)
    need[episodes["uasc"].to_numpy(dtype=bool)] = "N8"
    need[episodes["nfa"].to_numpy(dtype=bool)] = ""
    return need


def _census_details(pool: _Pool) -> pd.DataFrame:
    """The CIN episodes the census holds: those open at some time in the collection year."""
    t = pool.tables
    details = t["episodes"].merge(
        t["closures"][["episode", "close", "reason"]], on="episode", how="left"
    )
    return details[
        details["close"].isna() | (details["close"].to_numpy() >= pool.year_start)
    ].copy()


def _write_cin(pool: _Pool, path: Path, rng: np.random.Generator, need: pd.Series) -> None:
    """Every CIN episode open at some time in the census year, nested as the XSD orders it."""
    t, kids = pool.tables, pool.kids
    details = _census_details(pool)
    details["key"] = kids["id"].to_numpy()[details["child"].to_numpy()]
    details = details.sort_values(["key", "ref", "episode"], kind="stable")
    episodes = details["episode"].to_numpy()

    def within(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["episode"].isin(episodes)].sort_values(
            ["episode", "start"], kind="stable"
        )

    a = within(t["assessments"])
    factors = np.where(np.isnat(a["auth"].to_numpy()), "", _factors(rng, len(a)))
    a_xml = _wrap(
        "Assessments",
        4,
        _cat(
            _element("AssessmentActualStartDate", _iso(a["start"]), 5),
            _element("AssessmentAuthorisationDate", _iso(a["auth"]), 5),
            _wrap("FactorsIdentifiedAtAssessment", 5, factors, optional=True),
        ),
    )
    p = within(t["cin_plans"])
    p_xml = _wrap(
        "CINPlanDates",
        4,
        _cat(
            _element("CINPlanStartDate", _iso(p["start"]), 5),
            _element("CINPlanEndDate", _iso(p["end"]), 5),
        ),
    )
    s = within(t["s47"])
    s_xml = _wrap(
        "Section47",
        4,
        _cat(
            _element("S47ActualStartDate", _iso(s["start"]), 5),
            _element("InitialCPCtarget", _iso(_icpc_target(s["start"].to_numpy())), 5),
            _element("DateOfInitialCPC", _iso(s["icpc"]), 5),
            _element(
                "ICPCnotRequired",
                np.where(s["not_required"].to_numpy(dtype=bool), "true", "false"),
                5,
            ),
        ),
    )
    c = within(t["cpp"])
    r = t["cpp_reviews"][t["cpp_reviews"]["plan"].isin(c["plan"])].sort_values(
        ["plan", "date"], kind="stable"
    )
    reviews = _nest(
        _element("CPPreviewDate", _iso(r["date"]), 6), r["plan"].to_numpy(), c["plan"].to_numpy()
    )
    c_xml = _wrap(
        "ChildProtectionPlans",
        4,
        _cat(
            _element("CPPstartDate", _iso(c["start"]), 5),
            _element("CPPendDate", _iso(c["end"]), 5),
            _element("InitialCategoryOfAbuse", c["abuse"], 5),
            _element("LatestCategoryOfAbuse", c["latest"], 5),
            _element("NumberOfPreviousCPP", c["previous"].astype(int).astype(str), 5),
            _wrap("Reviews", 5, reviews, optional=True),
        ),
    )
    first_icpc = s.dropna(subset=["icpc"]).groupby("episode")["icpc"].min()
    d_xml = _wrap(
        "CINdetails",
        3,
        _cat(
            _element("CINreferralDate", _iso(details["ref"]), 4),
            _element("ReferralSource", details["source"], 4),
            _element("PrimaryNeedCode", need.reindex(episodes).fillna("").to_numpy(), 4),
            _element("CINclosureDate", _iso(details["close"]), 4),
            _element(
                "ReasonForClosure",
                np.where(details["close"].isna(), "", details["reason"].fillna("")),
                4,
            ),
            _element("DateOfInitialCPC", _iso(first_icpc.reindex(episodes).to_numpy()), 4),
            _nest(a_xml, a["episode"].to_numpy(), episodes),
            _nest(p_xml, p["episode"].to_numpy(), episodes),
            _nest(s_xml, s["episode"].to_numpy(), episodes),
            _element(
                "ReferralNFA", np.where(details["nfa"].to_numpy(dtype=bool), "true", "false"), 4
            ),
            _nest(c_xml, c["episode"].to_numpy(), episodes),
        ),
    )
    who = details.drop_duplicates("child")["child"].to_numpy()
    k = kids.iloc[who]
    # most LAs list NONE for a child without a disability; some leave the block out
    codes = [codes or ["NONE"] for codes in k["disabilities"]]
    disability = np.array(
        ["".join(f"{'  ' * 5}<Disability>{c}</Disability>\n" for c in cs) for cs in codes],
        dtype=object,
    )
    listed = k["disabled"].to_numpy() | (rng.random(len(k)) < 0.75)
    child_xml = _wrap(
        "Child",
        2,
        _cat(
            _wrap(
                "ChildIdentifiers",
                3,
                _cat(
                    _element("LAchildID", k["id"], 4),
                    _element("UPN", np.where(k["upn_unknown"] == "", k["upn"], ""), 4),
                    _element("UPNunknown", k["upn_unknown"], 4),
                    _element("PersonBirthDate", _iso(k["dob"]), 4),
                    _element("Sex", k["sex"], 4),
                ),
            ),
            _wrap(
                "ChildCharacteristics",
                3,
                _cat(
                    _element("Ethnicity", k["ethnicity"], 4),
                    _wrap("Disabilities", 4, np.where(listed, disability, ""), optional=True),
                ),
            ),
            _nest(d_xml, details["child"].to_numpy(), who),
        ),
    )
    ref = str(pool.reference)
    header = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n  <Header>\n'
        "    <CollectionDetails>\n      <Collection>CIN</Collection>\n"
        f"      <Year>{ref[:4]}</Year>\n      <ReferenceDate>{ref}</ReferenceDate>\n"
        "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n"
        "      <LEA>999</LEA>\n      <SoftwareCode>cscmining samples</SoftwareCode>\n"
        "      <Release>1</Release>\n      <SerialNo>001</SerialNo>\n"
        f"      <DateTime>{ref}T00:00:00</DateTime>\n    </Source>\n  </Header>\n  <Children>\n"
    )
    write_text(path, header + "".join(child_xml) + "  </Children>\n</Message>\n")


def _factors(rng: np.random.Generator, n: int) -> np.ndarray:
    """1–4 distinct assessment factors per assessment, as XML lines (weighted, no repeats)."""
    codes = np.array(list(FACTORS))
    weight = np.fromiter(FACTORS.values(), float)
    keys = -np.log(rng.random((n, len(codes)))) / weight  # Efraimidis–Spirakis sampling
    order = np.argsort(keys, axis=1)
    count = rng.choice([1, 2, 3, 4], size=n, p=[0.3, 0.35, 0.22, 0.13])
    lines = np.array(
        [f"{'  ' * 6}<AssessmentFactors>{c}</AssessmentFactors>\n" for c in codes], dtype=object
    )
    return np.array(["".join(lines[row[:k]]) for row, k in zip(order, count)], dtype=object)


def _icpc_target(start: np.ndarray) -> np.ndarray:
    """InitialCPCtarget: 15 working days (England bank holidays excluded) after the S47 start."""
    days = np.asarray(start, dtype="datetime64[D]")
    if not len(days):
        return days
    return due_dates(days, 15, "working_days", working_calendar(days))


# ---------------------------------------------------------------------------------------
# SSDA903


@dataclass
class _Table:
    """One table of a return: its exact header and its rows as text columns."""

    name: str
    header: list[str]
    rows: pd.DataFrame


def _ssda903(pool: _Pool, rng: np.random.Generator) -> dict[str, _Table]:
    """The 903 tables: every period of care open in the collection year, whole, with its
    reviews and missing episodes; AD1 for children adopted; PlacedAdoption for decisions."""
    t, kids = pool.tables, pool.kids
    periods = t["periods"]
    in_year = periods["end"].isna() | (periods["end"].to_numpy() >= pool.year_start)
    periods = periods[in_year]
    kept = periods["period"].to_numpy()
    ids = kids["id"].to_numpy()
    dob = _dmy(kids["dob"].to_numpy())
    ep = t["placements"][t["placements"]["period"].isin(kept)].copy()
    ep["key"] = ids[ep["child"].to_numpy()]
    ep = ep.sort_values(["key", "time"], kind="stable")
    c = ep["child"].to_numpy()
    episodes = pd.DataFrame(
        {
            "CHILD": ep["key"],
            "DECOM": _dmy(ep["time"]),
            "RNE": ep["rne"],
            "LS": ep["ls"],
            "CIN": ep["need"],
            "PLACE": ep["place"],
            "PLACE_PROVIDER": ep["provider"],
            "DEC": _dmy(ep["dec"]),
            "REC": ep["rec"].fillna(""),
            "REASON_PLACE_CHANGE": ep["reason"].fillna(""),
            "HOME_POST": kids["home_post"].to_numpy()[c],
            "PL_POST": ep["pl_post"],
            "URN": ep["urn"],
        }
    )
    who = np.unique(ep["child"].to_numpy())
    who = who[np.argsort(ids[who], kind="stable")]
    k = kids.iloc[who]
    upn = np.where(k["upn_unknown"] == "", k["upn"], k["upn_unknown"])
    header = pd.DataFrame(
        {
            "CHILD": k["id"],
            "SEX": k["sex"],
            "DOB": _dmy(k["dob"]),
            "ETHNIC": k["ethnicity"],
            "UPN": upn,
            "MOTHER": k["mother"],
            "MC_DOB": _dmy(k["mc_dob"]),
        }
    )

    def by_child(frame: pd.DataFrame, date_column: str) -> pd.DataFrame:
        frame = frame[frame["period"].isin(kept)].copy()
        frame["key"] = ids[frame["child"].to_numpy()]
        return frame.sort_values(["key", date_column], kind="stable")

    rv = by_child(t["cla_reviews"], "date")
    reviews = pd.DataFrame(
        {
            "CHILD": rv["key"],
            "DOB": dob[rv["child"]],
            "REVIEW": _dmy(rv["date"]),
            "REVIEW_CODE": rv["code"],
        }
    )
    ms = by_child(t["missing"], "start")
    missing = pd.DataFrame(
        {
            "CHILD": ms["key"],
            "DOB": dob[ms["child"]],
            "MISSING": ms["kind"],
            "MIS_START": _dmy(ms["start"]),
            "MIS_END": _dmy(ms["end"]),
        }
    )
    adopted = by_child(periods[periods["rec"].isin(["E11", "E12"])], "end")
    n = len(adopted)
    couple = rng.random(n) < 0.8
    sex_adopters = np.where(
        couple, _pick(rng, {"MF": 85, "FF": 9, "MM": 6}, n), _pick(rng, {"F1": 85, "M1": 15}, n)
    )
    status = np.where(
        couple,
        np.where(
            sex_adopters == "MF",
            _pick(rng, {"L0": 65, "L2": 35}, n),
            _pick(rng, {"L11": 50, "L12": 50}, n),
        ),
        "L3",
    )
    # adopted by the foster carers they were placed with (A3, A5: placed with current carers)
    last_place = t["placements"].groupby("period")["place"].last()
    foster_carer = np.isin(last_place.reindex(adopted["period"]).to_numpy(), ["A3", "A5"])
    ad1 = pd.DataFrame(
        {
            "CHILD": adopted["key"],
            "DOB": dob[adopted["child"]],
            "DATE_INT": _dmy(adopted["decision"]),
            "DATE_MATCH": _dmy(adopted["matched"]),
            "FOSTER_CARE": np.where(foster_carer, "1", "0"),
            "NB_ADOPTR": np.where(couple, "2", "1"),
            "SEX_ADOPTR": sex_adopters,
            "LS_ADOPTR": status,
        }
    )
    decided = by_child(periods[periods["decision"].notna()], "decision")
    placed_adoption = pd.DataFrame(
        {
            "CHILD": decided["key"],
            "DOB": dob[decided["child"]],
            "DATE_PLACED": _dmy(decided["decision"]),
            "DATE_PLACED_CEASED": _dmy(decided["ceased"]),
            "REASON_PLACED_CEASED": decided["ceased_reason"].fillna(""),
        }
    )
    u = k[k["uasc"].to_numpy()]
    uasc = pd.DataFrame(
        {"CHILD": u["id"], "SEX": u["sex"], "DOB": _dmy(u["dob"]), "DUC": _dmy(u["birthday18"])}
    )
    frames = {
        "header": header,
        "episodes": episodes,
        "reviews": reviews,
        "missing": missing,
        "ad1": ad1,
        "placed_adoption": placed_adoption,
        "uasc": uasc,
    }
    return {
        name: _Table(name, list(frame.columns), frame.reset_index(drop=True))
        for name, frame in frames.items()
    }


def _write_csv(
    table: _Table,
    path: Path,
    *,
    bom: bool = False,
    line_end: str = "\n",
    blank_after: int | None = None,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(table.header)
    rows = table.rows.fillna("").astype(str).to_numpy().tolist()
    if blank_after is not None and len(rows) > blank_after:
        rows.insert(blank_after, [""] * len(table.header))
    writer.writerows(rows)
    # bytes, not text: line ends exactly as given on every platform (no newline translation)
    write_bytes(path, (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8"))


def _write_903_xml(tables: dict[str, _Table], path: Path) -> None:
    """The same 903 data as one EXPSSDA903 file: CHILD/HEADER (with the AD1 fields, AMISSING,
    AREVIEW and AD_PLACED) and CHILD/EPISODE, with the XML's tag names CHILDID and PL."""
    h = tables["header"].rows
    keys = h["CHILD"].to_numpy()

    def nested(name: str, tag: str, fields: list[str], indent: int) -> np.ndarray:
        rows = tables[name].rows.rename(columns={"PLACE": "PL"})
        body = _wrap(tag, indent, _cat(*[_element(f, rows[f], indent + 1) for f in fields]))
        return _nest(body, rows["CHILD"].to_numpy(), keys)

    ad1 = tables["ad1"].rows.set_index("CHILD").reindex(keys).fillna("")
    duc = tables["uasc"].rows.set_index("CHILD").reindex(keys).fillna("")["DUC"].to_numpy()
    episode_fields = [
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PL",
        "PL_POST",
        "HOME_POST",
        "URN",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
    ]
    header = _wrap(
        "HEADER",
        2,
        _cat(
            _element("CHILDID", h["CHILD"], 3),
            _element("UPN", h["UPN"], 3),
            _element("SEX", h["SEX"], 3),
            _element("DOB", h["DOB"], 3),
            _element("ETHNIC", h["ETHNIC"], 3),
            np.where(duc != "", "      <UASC>1</UASC>\n", "      <UASC/>\n"),
            _element("DUC", duc, 3),
            *[
                _element(f, ad1[f], 3)
                for f in (
                    "DATE_INT",
                    "DATE_MATCH",
                    "FOSTER_CARE",
                    "NB_ADOPTR",
                    "SEX_ADOPTR",
                    "LS_ADOPTR",
                )
            ],
            nested("missing", "AMISSING", ["MISSING", "MIS_START", "MIS_END"], 3),
            nested("reviews", "AREVIEW", ["REVIEW", "REVIEW_CODE"], 3),
            _element("MOTHER", h["MOTHER"], 3),
            _element("MC_DOB", h["MC_DOB"], 3),
            nested(
                "placed_adoption",
                "AD_PLACED",
                ["DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"],
                3,
            ),
        ),
    )
    child_xml = _wrap("CHILD", 1, _cat(header, nested("episodes", "EPISODE", episode_fields, 2)))
    write_text(
        path,
        '<?xml version="1.0" encoding="UTF-8"?>\n<EXPSSDA903>\n'
        + "".join(child_xml)
        + "</EXPSSDA903>\n",
    )


# ---------------------------------------------------------------------------------------
# Ofsted Annex A

# fmt: off
DISABILITY_COLUMN = "Does the Child have a Disability"
#: the longest Annex A headers, word for word
ICPC_PLAN = "Did the Initial Child Protection Conference Result in a Child Protection Plan"
EPO = ("Subject to Emergency Protection Order or Protected Under Police Powers "
       "in Last Six Months (Y/N)")
SECOND_PERIOD = ("Is this a second or subsequent period of being a Looked After Child "
                 "within the last 12 months (Y/N)")
MISSING_COUNT = ("Number of Episodes the Child has been 'Missing' from their Placement "
                 "in the last 12 months")
ABSENT_COUNT = ("Number of Episodes the Child has been 'Absent' from their Placement "
                "in the last 12 months")
INTERVIEW_OFFERED = ("Was the child offered a Return Interview after their last missing "
                     "episode (Y/N)?")
INTERVIEW_ACCEPTED = ("Did the child accept a Return Interview after their last missing "
                      "episode (Y/N)?")
UASC_LEAVER = "Unaccompanied Asylum Seeking Child (UASC), or formerly UASC if 18 or over (Y/N)"
LIST_NAMES = {1: "Contacts", 2: "Early Help", 3: "Referrals", 4: "Assessments", 5: "S47 and ICPC",
              6: "Children in Need", 7: "Child Protection", 8: "Children in Care",
              9: "Care Leavers", 10: "Adoption"}
#: each list's own gender style, as different extracts write it
GENDER_STYLE = {1: "letter", 2: "word", 3: "code", 4: "letter", 5: "word", 6: "code",
                7: "letter", 8: "word", 9: "word", 10: "letter"}
GENDER = {"letter": {"M": "a) Male", "F": "b) Female", "U": "c) Not stated/recorded"},
          "word": {"M": "Male", "F": "Female", "U": "Not stated"},
          "code": {"M": "M", "F": "F", "U": "U"}}
NEED_LABEL = {"N1": "a) Abuse or neglect", "N2": "b) Child's disability",
              "N3": "c) Parents illness or disability", "N4": "d) Family in acute stress",
              "N5": "e) Family dysfunction", "N6": "f) Socially unacceptable behaviour",
              "N7": "g) Low income", "N8": "h) Absent parenting", "N9": "i) Not CIN", "": ""}
CLOSURE_LABEL = {"RC1": "a) Adopted", "RC2": "b) Died", "RC3": "c) Residence Order",
                 "RC4": "d) Special Guardianship Order", "RC5": "e) Transfer to another LA",
                 "RC6": "f) Transfer to Adult Social Services",
                 "RC7": "g) 'Other' incl. Child no longer in need",
                 "RC8": "h) Child not in need after assessment",
                 "RC9": "h) Child not in need after assessment"}
ABUSE_LABEL = {"NEG": ("a) Neglect", "Neglect"), "PHY": ("b) Physical Abuse", "Physical abuse"),
               "SAB": ("c) Sexual Abuse", "Sexual abuse"),
               "EMO": ("d) Emotional Abuse", "Emotional abuse"),
               "MUL": ("e) Multiple", "Multiple")}
LEGAL_LABEL = {"C1": "a) Interim care orders", "C2": "b) Full care orders",
               "D1": "c) Freed for Adoption",
               "E1": "d) Placement order granted", "V2": "e) Accommodated under S20",
               "L1": "f) Detained on child protection grounds in LA accommodation",
               "L2": "f) Detained on child protection grounds in LA accommodation",
               "L3": "f) Detained on child protection grounds in LA accommodation"}
PLACEMENT_LABEL = {**{f"U{i}": "a) Foster placement" for i in range(1, 7)},
                   **{f"A{i}": "b) Placed for adoption" for i in range(3, 7)},
                   "P1": "c) Placed with parents", "H5": "f) Residential accommodation",
                   "K3": "f) Residential accommodation", "K1": "g) Secure Children's Homes",
                   "K2": "h) Children's Homes", "R1": "i) Residential Care Home",
                   "R3": "k) Family Centre or Mother and Baby Unit", "S1": "m) Residential school",
                   "Z1": "n) Other placements"}
PROVIDER_LABEL = {"PR1": "a) Own LA", "PR4": "b) Private"}
#: reason ceased to be looked after: (lettered label, free wording) by REC code
CEASED_LABEL = {
    "E11": ("a) Adopted", "Adopted"), "E12": ("a) Adopted", "Adopted"),
    "E2": ("b) Died", "Died"), "E3": ("c) Care taken by another LA", "Care taken by another LA"),
    "E4A": ("d) Returned home to live with parents or relatives", "Returned home"),
    "E4B": ("d) Returned home to live with parents or relatives", "Returned home"),
    "E13": ("e) Left care to live with parents, relatives or other person", "Returned home"),
    "E41": ("f) Residence order granted", "Child arrangements order"),
    **{e: ("g) Special Guardianship Orders", "Special guardianship order")
       for e in ("E45", "E46", "E47", "E48")},
    **{e: ("h) Moved into independent living", "Moved into independent living")
       for e in ("E5", "E6", "E17")},
    "E9": ("j) Sentenced to custody", "Sentenced to custody"),
    "E15": ("l) Age assessment determined child was 18 or over", "Age assessment: 18 or over"),
    "E16": ("m) Child moved abroad", "Moved abroad"),
    "E8": ("n) Care ceased for any other reason", "Care ceased for any other reason"),
}
PERMANENCE = {"adoption": "b) Adoption", "sgo": "c) SGO/CAO", "cao": "c) SGO/CAO",
              "home": "a) Return to family", "stay": "f) Long-term fostering", "other": "g) Other",
              "open": "f) Long-term fostering"}
ACTIVITY = {"F2: Full time in education other than higher": 30,
            "F1: Full time in higher education": 8,
            "F3: Full time in training or employment": 15,
            "P3: Part time in training or employment": 7,
            "G5: Not in education, employment or training - other": 25,
            "G4: Not in education, employment or training - illness or disability": 8,
            "G6: Not in education, employment or training - pregnancy or parenting": 7}
ACCOMMODATION = {"c) Semi-independent transitional accommodation": 30, "d) Supported lodgings": 15,
                 "k) Independent living": 20, "g) Ordinary lodgings": 10,
                 "a) With parents or relatives": 15, "j) Foyers": 5, "p) Other accommodation": 5}
# fmt: on


@dataclass
class _List:
    """One Annex A list: its number, headers, and rows (dates as datetime64, text as str)."""

    number: int
    header: list[str]
    rows: pd.DataFrame
    dates: list[str]


def _styled(
    rng: np.random.Generator,
    lettered: np.ndarray,
    code: np.ndarray,
    word: np.ndarray,
    shares: tuple[float, float],
) -> np.ndarray:
    """Labels written in several styles, as LAs' extracts do: ``a) …``, a bare code, a word."""
    u = rng.random(len(lettered))
    out = np.where(u < shares[0], lettered, np.where(u < shares[0] + shares[1], code, word))
    return np.where(pd.isna(code), "", out).astype(object)


def _labels(mapping: dict[str, str], codes: Iterable[str], default: str = "") -> np.ndarray:
    return np.array([mapping.get(c, default) for c in codes], dtype=object)


def _source_label(codes: Iterable[str]) -> np.ndarray:
    """Annex A's lettered source for a CIN ReferralSource code (1A–1D are all "a) Individual")."""
    return np.array([SOURCE_LABEL[c if c in SOURCE_LABEL else c[0]] for c in codes], dtype=object)


def _annex_a(pool: _Pool, rng: np.random.Generator, need: pd.Series) -> list[_List]:
    """Lists 1–10 as the six months (list 10: twelve) before the reference date show them."""
    t, kids, ref, since = pool.tables, pool.kids, pool.reference, pool.six_months

    def after(values: pd.Series | np.ndarray, start: np.datetime64) -> np.ndarray:
        days = np.asarray(values, dtype="datetime64[D]")
        return ~np.isnat(days) & (days >= start)

    def still(values: pd.Series | np.ndarray, start: np.datetime64) -> np.ndarray:
        days = np.asarray(values, dtype="datetime64[D]")
        return np.isnat(days) | (days >= start)

    def common(child: np.ndarray, number: int, disability: bool) -> dict[str, np.ndarray]:
        k = kids.iloc[child]
        style = GENDER[GENDER_STYLE[number]]
        ethnic = k["ethnicity"].to_numpy(dtype=object)
        if number == 2:  # this extract prefixes some codes the way Ofsted's template letters them
            ethnic = np.where(rng.random(len(k)) < 0.85, ethnic, "a) " + ethnic)
        cols = {
            "Child Unique ID": k["id"].to_numpy(),
            "Gender": _labels(style, k["sex"]),
            "Ethnicity": ethnic,
            "Date of Birth": k["dob"].to_numpy(),
            "Age of Child (Years)": _years(k["dob"].to_numpy(), ref),
        }
        if disability:
            cols[DISABILITY_COLUMN] = np.where(k["disabled"], "Yes", "No")
        return cols

    def worker(n: int) -> np.ndarray:
        return np.array([f"SW{v:04d}" for v in rng.integers(1, 90, n)], dtype=object)

    def team(kind: str, n: int) -> np.ndarray:
        return rng.choice(TEAMS[kind], n).astype(object)

    def make(
        number: int,
        child: np.ndarray,
        columns: dict[str, np.ndarray],
        dates: list[str],
        sort: str,
        disability: bool = True,
    ) -> _List:
        data = {**common(child, number, disability), **columns}
        if "Family identifier" in data:  # list 10 names the family straight after the child
            data = {
                "Child Unique ID": data.pop("Child Unique ID"),
                "Family identifier": data.pop("Family identifier"),
                **data,
            }
        frame = (
            pd.DataFrame(data)
            .sort_values([sort, "Child Unique ID"], kind="stable")
            .reset_index(drop=True)
        )
        return _List(number, list(frame.columns), frame, ["Date of Birth", *dates])

    lists: list[_List] = []
    contacts = t["contacts"][after(t["contacts"]["date"], since)]
    lettered = _source_label(contacts["source"])
    with_code = np.array(
        [f"{label[:3]}{code}: {label[3:]}" for label, code in zip(lettered, contacts["source"])],
        dtype=object,
    )  # "a) 1A: Individual", as some extracts write it
    lists.append(
        make(
            1,
            contacts["child"].to_numpy(),
            {
                "Date of Contact": contacts["date"].to_numpy(),
                "Contact Source": _styled(rng, lettered, with_code, lettered, (0.7, 0.3)),
            },
            ["Date of Contact"],
            "Date of Contact",
            disability=False,
        )
    )

    eh = t["early_help"]
    eh = eh[(eh["start"].to_numpy() <= ref) & still(eh["end"], since)]
    lists.append(
        make(
            2,
            eh["child"].to_numpy(),
            {
                "Assessment start date": eh["start"].to_numpy(),
                "Assessment completion date": eh["end"].to_numpy(),
                "Organisation completing assessment": eh["org"].to_numpy(),
            },
            ["Assessment start date", "Assessment completion date"],
            "Assessment start date",
            disability=False,
        )
    )

    episodes = t["episodes"].merge(
        t["closures"][["episode", "close", "reason"]], on="episode", how="left"
    )
    ref_dates = episodes[["child", "ref"]]
    refs = episodes[after(episodes["ref"], since)]
    lists.append(
        make(
            3,
            refs["child"].to_numpy(),
            {
                "Date of referral": refs["ref"].to_numpy(),
                "Referral Source": _styled(
                    rng,
                    _source_label(refs["source"].to_numpy()),
                    refs["source"].to_numpy(),
                    _source_label(refs["source"].to_numpy()),
                    (0.8, 0.2),
                ),
                "Referral NFA?": np.where(refs["nfa"].to_numpy(dtype=bool), "Yes", "No"),
                "Number of Referrals in Last 12 Months": _count_within(
                    refs[["child", "ref"]], ref_dates, "ref", "ref"
                ),
                "Allocated Team": team("front", len(refs)),
                "Allocated Worker": worker(len(refs)),
            },
            ["Date of referral"],
            "Date of referral",
            disability=False,
        )
    )

    a = t["assessments"]
    a = a[after(a["start"], since) | still(a["auth"], since)]
    authorised = ~np.isnat(a["auth"].to_numpy())
    lists.append(
        make(
            4,
            a["child"].to_numpy(),
            {
                "Continuous Assessment Start Date": a["start"].to_numpy(),
                "Child Seen During Continuous Assessment": np.where(
                    rng.random(len(a)) < 0.96, "Yes", "No"
                ),
                "Continuous Assessment Date of Authorisation": a["auth"].to_numpy(),
                "Was the child assessed as requiring LA children's social care support?": np.where(
                    authorised, np.where(a["support"].to_numpy(dtype=bool), "Yes", "No"), ""
                ),
                "Allocated Team": team("assess", len(a)),
                "Allocated Worker": worker(len(a)),
            },
            ["Continuous Assessment Start Date", "Continuous Assessment Date of Authorisation"],
            "Continuous Assessment Start Date",
        )
    )

    s = t["s47"]
    s_all = s[["child", "start", "icpc"]]
    s = s[
        after(s["start"], since)
        | (
            np.isnat(s["icpc"].to_numpy())
            & ~s["not_required"].to_numpy(dtype=bool)
            & (s["concluded"].to_numpy() > ref)
        )
    ]
    plans = set(zip(t["cpp"]["episode"], t["cpp"]["start"]))
    plan_made = np.array([(e, d) in plans for e, d in zip(s["episode"], s["icpc"])], dtype=bool)
    held = ~np.isnat(s["icpc"].to_numpy())
    lists.append(
        make(
            5,
            s["child"].to_numpy(),
            {
                "Strategy discussion initiating Section 47 Enquiry Start Date": s[
                    "start"
                ].to_numpy(),
                "Was an Initial Child Protection Conference deemed unnecessary?": np.where(
                    s["not_required"].to_numpy(dtype=bool), "Yes", "No"
                ),
                "Date of Initial Child Protection Conference": s["icpc"].to_numpy(),
                ICPC_PLAN: np.where(held, np.where(plan_made, "Yes", "No"), ""),
                "Number of Section 47 Enquiries in the last 12 months": _count_within(
                    s[["child", "start"]], s_all, "start", "start"
                ),
                "Number of ICPCs in the last 12 months": _count_within(
                    s[["child", "start"]], s_all.dropna(subset=["icpc"]), "start", "icpc"
                ),
                "Allocated Team": team("cp", len(s)),
                "Allocated Worker": worker(len(s)),
            },
            [
                "Strategy discussion initiating Section 47 Enquiry Start Date",
                "Date of Initial Child Protection Conference",
            ],
            "Strategy discussion initiating Section 47 Enquiry Start Date",
        )
    )

    cin = episodes[~episodes["nfa"].to_numpy(dtype=bool) & still(episodes["close"], since)]
    status = _case_status(pool, cin)
    last_seen = np.fmin(cin["close"].to_numpy(dtype="datetime64[D]"), ref) - _uniform(
        rng, 0, 30, len(cin)
    ).astype("int64")
    last_seen = np.maximum(last_seen, cin["ref"].to_numpy())
    closure = np.where(cin["close"].isna(), "", cin["reason"].fillna("")).astype(object)
    needs = need.reindex(cin["episode"]).fillna("").to_numpy(dtype=object)
    kind = np.select(
        [
            needs == "N2",
            status == "a) Looked after child",
            status == "b) Child Protection plan",
            status == "c) Child in need plan",
        ],
        ["dis", "cla", "cp", "cin"],
        "assess",
    )
    lists.append(
        make(
            6,
            cin["child"].to_numpy(),
            {
                "CIN Start Date": cin["ref"].to_numpy(),
                "Primary Need Code": _styled(
                    rng, _labels(NEED_LABEL, needs), needs, _labels(NEED_LABEL, needs), (0.7, 0.3)
                ),
                "Date Child Was Last Seen": last_seen,
                "CIN Closure Date": cin["close"].to_numpy(),
                "Reason for Closure": _styled(
                    rng,
                    _labels(CLOSURE_LABEL, closure),
                    closure,
                    _labels(CLOSURE_LABEL, closure),
                    (0.75, 0.25),
                ),
                "Case Status": status,
                "Allocated Team": np.array([team(k, 1)[0] for k in kind], dtype=object),
                "Allocated Worker": worker(len(cin)),
            },
            ["CIN Start Date", "Date Child Was Last Seen", "CIN Closure Date"],
            "CIN Start Date",
        )
    )

    c = t["cpp"]
    c = c[still(c["end"], since)]
    latest_review = t["cpp_reviews"].groupby("plan")["date"].max().reindex(c["plan"]).to_numpy()
    until = np.fmin(c["end"].to_numpy(dtype="datetime64[D]"), ref)
    visit = np.maximum(until - _uniform(rng, 0, 14, len(c)).astype("int64"), c["start"].to_numpy())
    abuse = [ABUSE_LABEL[v] for v in c["abuse"]]
    lists.append(
        make(
            7,
            c["child"].to_numpy(),
            {
                "Child Protection Plan Start Date": c["start"].to_numpy(),
                "Initial Category of Abuse": _styled(
                    rng,
                    np.array([x[0] for x in abuse], dtype=object),
                    c["abuse"].to_numpy(dtype=object),
                    np.array([x[1] for x in abuse], dtype=object),
                    (0.6, 0.2),
                ),
                "Latest Category of Abuse": np.array(
                    [ABUSE_LABEL[v][0] for v in c["latest"]], dtype=object
                ),
                "Date of the Last Statutory Visit": visit,
                "Was the Child Seen Alone?": _pick(
                    rng, {"Yes": 65, "No": 30, "Unknown": 5}, len(c)
                ),
                "Date of latest review conference": latest_review,
                "Child Protection Plan End Date": c["end"].to_numpy(),
                EPO: np.where(rng.random(len(c)) < 0.03, "Yes", "No"),
                "Number of Previous Child Protection Plans": c["previous"].astype(int).to_numpy(),
                "Allocated Team": team("cp", len(c)),
                "Allocated Worker": worker(len(c)),
            },
            [
                "Child Protection Plan Start Date",
                "Date of the Last Statutory Visit",
                "Date of latest review conference",
                "Child Protection Plan End Date",
            ],
            "Child Protection Plan Start Date",
        )
    )

    lists.append(_list_8(pool, rng, make, team, worker))
    lists.append(_list_9(pool, rng, make, team, worker))
    lists.append(_list_10(pool, make))
    return lists


def _count_within(
    rows: pd.DataFrame, events: pd.DataFrame, row_date: str, event_date: str
) -> np.ndarray:
    """For each row, the child's events in the 12 months up to and including the row's date."""
    left = rows.reset_index(drop=True).rename(columns={row_date: "at"})[["child", "at"]]
    left["row"] = np.arange(len(left))
    right = events[["child", event_date]].rename(columns={event_date: "on"})
    pairs = left.merge(right, on="child")
    at, on = (
        pairs["at"].to_numpy(dtype="datetime64[D]"),
        pairs["on"].to_numpy(dtype="datetime64[D]"),
    )
    inside = (on <= at) & (on > at - 365)
    return pairs[inside].groupby("row").size().reindex(range(len(left)), fill_value=0).to_numpy()


def _case_status(pool: _Pool, cin: pd.DataFrame) -> np.ndarray:
    """Annex A list 6 case status at the reference date (or at closure)."""
    t, ref = pool.tables, pool.reference

    def open_at(frame: pd.DataFrame, start: str, end: str) -> set[int]:
        live = (frame[start].to_numpy() <= ref) & np.isnat(frame[end].to_numpy())
        return set(frame.loc[live, "episode"])

    looked_after = open_at(t["periods"], "start", "end")
    protected = open_at(t["cpp"], "start", "end")
    plan = open_at(t["cin_plans"], "start", "end")
    out = []
    for episode, closed in zip(cin["episode"], cin["close"].isna()):
        if not closed:
            out.append("e) Closed episode")
        elif episode in looked_after:
            out.append("a) Looked after child")
        elif episode in protected:
            out.append("b) Child Protection plan")
        elif episode in plan:
            out.append("c) Child in need plan")
        else:
            out.append("d) Open assessment")
    return np.array(out, dtype=object)


def _list_8(
    pool: _Pool,
    rng: np.random.Generator,
    make: Callable[..., _List],
    team: Callable[[str, int], np.ndarray],
    worker: Callable[[int], np.ndarray],
) -> _List:
    """Children looked after at the reference date or who left care in the six months."""
    t, ref, kids = pool.tables, pool.reference, pool.kids
    periods = t["periods"]
    p = periods[
        np.isnat(periods["end"].to_numpy()) | (periods["end"].to_numpy() >= pool.six_months)
    ]
    p = p.sort_values(["child", "start"]).drop_duplicates("child", keep="last")
    n = len(p)
    ep = t["placements"][t["placements"]["period"].isin(p["period"])].sort_values(
        ["period", "time"], kind="stable"
    )
    last = ep.groupby("period").last()
    # start of the current legal status: the first episode of the final run of that status
    run = (ep["ls"] != ep.groupby("period")["ls"].shift()).cumsum()
    legal_since = (
        ep.groupby(run)
        .agg(period=("period", "first"), since=("time", "first"))
        .groupby("period")["since"]
        .last()
    )
    placed = ep[ep["rne"].isin(["S", "P", "T", "B", "U"])].groupby("period")["time"].last()
    until = np.fmin(p["end"].to_numpy(dtype="datetime64[D]"), ref)
    start = p["start"].to_numpy(dtype="datetime64[D]")
    reviews = t["cla_reviews"].groupby("period")["date"].max().reindex(p["period"]).to_numpy()
    year_ago = ref - np.timedelta64(365, "D")
    # a placement lasts from the episode that began it to the next that began another
    begun = ep[ep["rne"].isin(["S", "P", "T", "B", "U"])]
    of = begun["period"].to_numpy()
    times = np.asarray(begun["time"].to_numpy(), dtype="datetime64[D]")
    last_one = np.ones(len(of), bool)
    last_one[:-1] = of[1:] != of[:-1]
    ends = np.empty_like(times)
    ends[:-1] = times[1:]
    ends[last_one] = np.asarray(
        p.set_index("period")["end"].reindex(of[last_one]).to_numpy(), dtype="datetime64[D]"
    )
    lasting = np.isnat(ends) | (ends > year_ago)
    placements_12 = (
        begun[lasting].groupby("period").size().reindex(p["period"], fill_value=0).to_numpy()
    )
    missing = t["missing"][t["missing"]["start"].to_numpy() > year_ago]
    counts = (
        missing.groupby(["period", "kind"])
        .size()
        .unstack(fill_value=0)
        .reindex(p["period"], fill_value=0)
    )
    n_missing = counts.get("M", pd.Series(0, index=counts.index)).to_numpy()
    n_absent = counts.get("A", pd.Series(0, index=counts.index)).to_numpy()
    any_missing = (n_missing + n_absent) > 0
    offered = any_missing & (rng.random(n) < 0.85)
    earlier = periods[["child", "end"]].rename(columns={"end": "prev_end"})
    second = p[["child", "start", "period"]].merge(earlier, on="child")
    second = second[
        (second["prev_end"].to_numpy() < second["start"].to_numpy())
        & (second["prev_end"].to_numpy() >= second["start"].to_numpy() - np.timedelta64(365, "D"))
    ]
    rec = p["rec"].fillna("").to_numpy(dtype=object)
    ceased = [CEASED_LABEL.get(r, ("", "")) for r in rec]
    place = last["place"].reindex(p["period"]).to_numpy(dtype=object)
    ls = last["ls"].reindex(p["period"]).to_numpy(dtype=object)
    provider = last["provider"].reindex(p["period"]).to_numpy(dtype=object)
    age = _years(kids["dob"].to_numpy()[p["child"].to_numpy()], ref)
    out_of_area = rng.random(n) < 0.3
    team_kind = np.where(
        age >= 16, "leave", np.where(p["outcome"].to_numpy() == "adoption", "perm", "cla")
    )
    teams = np.array([team(kind, 1)[0] for kind in team_kind], dtype=object)
    days_in = (until - start).astype("int64")

    def before(days: int, floor_days: int = 0) -> np.ndarray:
        d = until - _uniform(rng, 0, days, n).astype("int64")
        d = np.maximum(d, start + floor_days)
        return np.where(days_in >= floor_days, d, np.datetime64("NaT"))

    return make(
        8,
        p["child"].to_numpy(),
        {
            "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N)": np.where(
                kids["uasc"].to_numpy()[p["child"].to_numpy()], "Y", "N"
            ),
            "Date Started to be Looked After": start,
            "Child's Category of Need": _styled(
                rng,
                np.array([NEED_LABEL[c] for c in p["need"]], dtype=object),
                p["need"].to_numpy(dtype=object),
                np.array([NEED_LABEL[c] for c in p["need"]], dtype=object),
                (0.7, 0.3),
            ),
            SECOND_PERIOD: np.where(p["period"].isin(second["period"]), "Y", "N"),
            "Start date of current legal status": legal_since.reindex(p["period"]).to_numpy(),
            "Child's Legal Status": _styled(
                rng,
                np.array(
                    [LEGAL_LABEL.get(x, "g) Youth justice legal Statuses") for x in ls],
                    dtype=object,
                ),
                ls,
                np.array([LEGAL_LABEL.get(x, "") for x in ls], dtype=object),
                (0.8, 0.2),
            ),
            "Date of Latest Statutory Review": reviews,
            "Date of Last Social Work Visit": before(42),
            "What is the permanence plan for this child?": np.array(
                [PERMANENCE[o] for o in p["outcome"]], dtype=object
            ),
            "Date of Last IRO Visit / Contact to the Child": before(120, 7),
            "Date of Last Health Assessment": before(300, 20),
            "Date of Last Dental Check": np.where(age >= 1, before(330, 60), np.datetime64("NaT")),
            "Number of Placements in the Last 12 months": placements_12,
            "Date Ceased to be Looked After": p["end"].to_numpy(),
            "Reason Ceased to be Looked After": _styled(
                rng,
                np.array([c[0] for c in ceased], dtype=object),
                rec,
                np.array([c[1] for c in ceased], dtype=object),
                (0.7, 0.15),
            ),
            "Start Date of Most Recent Placement": placed.reindex(p["period"]).to_numpy(),
            "Placement Type": _styled(
                rng,
                np.array(
                    [PLACEMENT_LABEL.get(x, "n) Other placements") for x in place], dtype=object
                ),
                place,
                place,
                (0.75, 0.25),
            ),
            "Placement Provider": np.array(
                [PROVIDER_LABEL.get(x, "c) Other") for x in provider], dtype=object
            ),
            "Placement postcode": last["pl_post"].reindex(p["period"]).to_numpy(dtype=object),
            "URN of Placement": last["urn"].reindex(p["period"]).to_numpy(dtype=object),
            "Placement Location": np.where(out_of_area, "b) Out", "a) In"),
            "LA of Placement": np.where(
                out_of_area, rng.choice(SYNTHETIC_LAS[1:], n), SYNTHETIC_LAS[0]
            ),
            MISSING_COUNT: n_missing,
            ABSENT_COUNT: n_absent,
            INTERVIEW_OFFERED: np.where(any_missing, np.where(offered, "Y", "N"), ""),
            INTERVIEW_ACCEPTED: np.where(offered, np.where(rng.random(n) < 0.55, "Y", "N"), ""),
            "Allocated Team": teams,
            "Allocated Worker": worker(n),
        },
        [
            "Date Started to be Looked After",
            "Start date of current legal status",
            "Date of Latest Statutory Review",
            "Date of Last Social Work Visit",
            "Date of Last IRO Visit / Contact to the Child",
            "Date of Last Health Assessment",
            "Date of Last Dental Check",
            "Date Ceased to be Looked After",
            "Start Date of Most Recent Placement",
        ],
        "Date Started to be Looked After",
    )


def _list_9(
    pool: _Pool,
    rng: np.random.Generator,
    make: Callable[..., _List],
    team: Callable[[str, int], np.ndarray],
    worker: Callable[[int], np.ndarray],
) -> _List:
    """Care leavers: young people 18–21 who left care at 18."""
    periods, kids, ref = pool.tables["periods"], pool.kids, pool.reference
    left = periods[(periods["outcome"] == "stay") & periods["end"].notna()]
    left = left[_years(kids["dob"].to_numpy()[left["child"].to_numpy()], ref) <= 21]
    n = len(left)
    staying_put = left["rec"].to_numpy() == "E17"
    in_touch = rng.random(n) < 0.88
    return make(
        9,
        left["child"].to_numpy(),
        {
            UASC_LEAVER: np.where(kids["uasc"].to_numpy()[left["child"].to_numpy()], "Y", "N"),
            "Allocated Team": team("leave", n),
            "Allocated Worker": worker(n),
            "Allocated Personal Advisor": np.array(
                [f"PA{v:03d}" for v in rng.integers(1, 30, n)], dtype=object
            ),
            "Eligibility Category": np.full(n, "b) Former relevant", dtype=object),
            "Latest Pathway Plan Review Date": ref - _uniform(rng, 0, 180, n).astype("int64"),
            "LA in Touch": np.where(in_touch, "a) In touch", "b) Not in touch"),
            "Latest Date of Contact": ref - _uniform(rng, 0, 60, n).astype("int64"),
            "Type of Accommodation": np.where(
                staying_put, "o) With Former Foster Carer", _pick(rng, ACCOMMODATION, n)
            ),
            "Suitability of Accommodation": np.where(
                in_touch,
                np.where(rng.random(n) < 0.9, "a) Suitable", "b) Not suitable"),
                "c) Not in touch or not recorded",
            ),
            "Activity Status": _pick(rng, ACTIVITY, n),
        },
        ["Latest Pathway Plan Review Date", "Latest Date of Contact"],
        "Latest Date of Contact",
    )


def _list_10(pool: _Pool, make: Callable[..., _List]) -> _List:
    """Adoption events in the twelve months before the reference date."""
    periods, since = pool.tables["periods"], pool.year_start
    columns = ["decision", "order", "matched", "placed", "adopted", "ceased"]
    recent = np.zeros(len(periods), bool)
    for column in columns:
        days = periods[column].to_numpy(dtype="datetime64[D]")
        recent |= ~np.isnat(days) & (days >= since)
    a = periods[recent]
    reason = {
        "RD1": "a) Child’s needs changed",
        "RD2": "b) Court did not make a PO",
        "RD3": "c) Prospective adopters cannot be found",
        "RD4": "d) Any other reason",
        "": "",
    }
    return make(
        10,
        a["child"].to_numpy(),
        {
            "Family identifier": np.full(len(a), "", dtype=object),
            "Date the Child Entered Care": a["start"].to_numpy(),
            "Date of Decision that Child Should be Placed for Adoption": a["decision"].to_numpy(),
            "Date of Placement Order": a["order"].to_numpy(),
            "Date of Matching Child and Prospective Adopters": a["matched"].to_numpy(),
            "Date Placed for Adoption": a["placed"].to_numpy(),
            "Date of Adoption Order": a["adopted"].to_numpy(),
            "Date of Decision that Child Should No Longer be Placed for Adoption": a[
                "ceased"
            ].to_numpy(),
            "Reason Why Child No Longer Placed for Adoption": np.array(
                [reason[r] for r in a["ceased_reason"].fillna("")], dtype=object
            ),
            "Date the child was placed for fostering in FFA or concurrent planning placement": a[
                "ffa"
            ].to_numpy(),
        },
        [
            "Date the Child Entered Care",
            "Date of Decision that Child Should be Placed for Adoption",
            "Date of Placement Order",
            "Date of Matching Child and Prospective Adopters",
            "Date Placed for Adoption",
            "Date of Adoption Order",
            "Date of Decision that Child Should No Longer be Placed for Adoption",
            "Date the child was placed for fostering in FFA or concurrent planning placement",
        ],
        "Date of Decision that Child Should be Placed for Adoption",
    )


def _write_annex_csv(lists: list[_List], folder: Path) -> list[Path]:
    paths = []
    for lst in lists:
        header = lst.header
        frame = lst.rows.copy()
        for column in lst.dates:
            frame[column] = _dmy(frame[column].to_numpy())
        path = folder / f"list_{lst.number}.csv"
        # Excel's "Save as CSV": CRLF line ends; list 6 keeps an empty row between data rows
        _write_csv(
            _Table(path.stem, header, frame),
            path,
            line_end="\r\n",
            blank_after=len(frame) // 2 if lst.number == 6 and len(frame) > 1 else None,
        )
        paths.append(path)
    return paths


def _write_annex_xlsx(
    lists: list[_List], path: Path, rng: np.random.Generator, stamp: datetime
) -> None:
    """One sheet per list: mostly real date cells, a few typed as text, one loose header,
    and empty but formatted rows left below the last row of list 1."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook(write_only=True)
    book.properties.creator = "cscmining samples (synthetic data)"
    book.properties.created = book.properties.modified = stamp
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="BFBFBF")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for lst in lists:
        sheet = book.create_sheet(f"List {lst.number} - {LIST_NAMES[lst.number]}")
        header = lst.header
        labels = [
            "Child unique ID " if (h == "Child Unique ID" and lst.number == 3) else h
            for h in header
        ]
        head = []
        for label in labels:
            cell = WriteOnlyCell(sheet, value=label)
            cell.font, cell.fill = bold, fill
            head.append(cell)
        sheet.append(head)
        frame = lst.rows
        is_date = [h in lst.dates for h in header]
        columns = [frame[h].to_numpy() for h in header]
        text_dates = rng.random((len(frame), len(header))) < 0.04
        for i in range(len(frame)):
            row = []
            for j, values in enumerate(columns):
                value = values[i]
                if is_date[j]:
                    if np.isnat(value):
                        value = None
                    elif text_dates[i, j]:
                        value = pd.Timestamp(value).strftime("%d/%m/%Y")
                    else:
                        cell = WriteOnlyCell(sheet, value=pd.Timestamp(value).to_pydatetime())
                        cell.number_format = "dd/mm/yyyy"
                        value = cell
                elif isinstance(value, (np.integer, int)):
                    value = int(value)
                elif value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
                    value = None
                else:
                    value = str(value)
                row.append(value)
            sheet.append(row)
        if lst.number == 1:
            for _ in range(6):
                empty = []
                for _j in header:
                    cell = WriteOnlyCell(sheet, value=None)
                    cell.border = box
                    empty.append(cell)
                sheet.append(empty)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:  # in memory only
        ExcelWriter(book, archive).write_data()
    _stable_zip(buffer.getvalue(), path, stamp)


def _stable_zip(data: bytes, path: Path, stamp: datetime) -> None:
    """Rewrite a zip with fixed entry times so the same workbook gives the same bytes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    write_bytes(path, out.getvalue())


# ---------------------------------------------------------------------------------------
# The public entry point


def write_samples(
    out_dir: Path,
    *,
    children: int = 600,
    seed: int = 2025,
    reference_date: date = date(2025, 3, 31),
) -> list[Path]:
    """Write the synthetic returns for ``children`` made-up children into ``out_dir``.

    The same arguments always give byte-identical files. Returns the paths written::

        write_samples(Path("samples"))  # the committed default set
    """
    if children < 1:
        raise ValueError("children must be at least 1")
    rng = np.random.default_rng(seed)
    pool = _build_pool(rng, children, reference_date)
    year = reference_date.year
    out_dir = Path(out_dir)
    folder903 = out_dir / f"ssda903_{year}"
    alternative = out_dir / "alternative_formats"
    annex_csv = alternative / f"annex_a_{year}_csv"
    for folder in (out_dir, folder903, annex_csv):
        folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime(reference_date.year, reference_date.month, reference_date.day)
    need = _cin_need(pool, rng)
    paths = [out_dir / f"cin_census_{year}.xml"]
    _write_cin(pool, paths[0], rng, need)
    tables = _ssda903(pool, rng)
    for name, table in tables.items():
        path = folder903 / f"{name}.csv"
        _write_csv(table, path, bom=name == "episodes")
        paths.append(path)
    paths.append(alternative / f"ssda903_{year}.xml")
    _write_903_xml(tables, paths[-1])
    lists = _annex_a(pool, rng, need)
    paths.append(out_dir / f"annex_a_{year}.xlsx")
    _write_annex_xlsx(lists, paths[-1], rng, stamp)
    paths += _write_annex_csv(lists, annex_csv)
    paths.append(out_dir / "README.md")
    write_text(paths[-1], _readme(pool, tables, lists, children, seed, reference_date))
    return paths


def _readme(
    pool: _Pool,
    tables: dict[str, _Table],
    lists: list[_List],
    children: int,
    seed: int,
    reference: date,
) -> str:
    """The README written beside the samples: what they are, how made, what mess they carry."""
    year = reference.year
    counts = "\n".join(
        [f"| children in the CIN census | {_census_details(pool)['child'].nunique()} |"]
        + [f"| `ssda903_{year}/{name}.csv` | {len(t.rows)} rows |" for name, t in tables.items()]
        + [
            f"| Annex A list {lst.number} ({LIST_NAMES[lst.number]}) | {len(lst.rows)} rows |"
            for lst in lists
        ]
    )
    return f"""# Synthetic sample returns

Everything here is **synthetic**: made up by `cscmining samples`, about no real child. Child
identifiers, UPNs, postcodes (no UK postcode area starts with Q, V or X), URNs, workers
(`SW0042`), the LA code (999) and local authority names are invented. Regenerate with:

    .venv/bin/python -m cscmining samples -o samples --children {children} --seed {seed} \\
        --reference-date {reference.isoformat()}

The same arguments give byte-identical files.

## Files

| File | What it is |
|---|---|
| `cin_census_{year}.xml` | CIN census, 2025 shape: `Sex` M/F/U, booleans `true`/`false` \
(as DfE's 2026 sample data; older schemas list `0`/`1`), dates `YYYY-MM-DD` |
| `ssda903_{year}/` | SSDA903 CSV set: header, episodes, reviews, missing, ad1, placed_adoption, \
uasc; dates `dd/mm/YYYY` |
| `annex_a_{year}.xlsx` | Ofsted Annex A workbook, lists 1–10, one sheet each |
| `alternative_formats/ssda903_{year}.xml` | the same SSDA903 data as one `EXPSSDA903` XML file \
(tags `CHILDID`, `PL`) |
| `alternative_formats/annex_a_{year}_csv/` | the same Annex A lists as one CSV per list |

Read one format of each return at a time, for example

    cscmining ingest samples/cin_census_{year}.xml samples/ssda903_{year} \\
        samples/annex_a_{year}.xlsx -o log.parquet

The `alternative_formats` hold the same facts again.

Reference date {reference.isoformat()}. The CIN census and SSDA903 cover the year to that date,
Annex A lists 1–8 the six months to it, list 10 the twelve months, list 9 the care leavers now.

| {children} children in the pool | |
|---|---|
{counts}

## How the children were made

One pool of children, with the same identifier in every return. A fact the returns share has the
same date in each: a referral in the CIN census and Annex A list 3, a period of care in SSDA903
and list 8, an adoption decision in SSDA903 and list 10, and so on.

Journeys start at the front door. About 20% of contacts become referrals and about a fifth of
referrals are re-referrals. Most referrals get an assessment (median about four weeks; some take
longer than 45 working days, a few are left unauthorised for months). About 15% lead to a
section 47 enquiry, about 40% of those to an initial conference (usually within 15 working days,
some late; enquiries without one mostly record `ICPCnotRequired`), and most conferences to a
child protection plan, reviewed at about 3 months and then 6-monthly. Plans step down to child in
need plans or close. Some children come into care: in an emergency (police protection, emergency
protection orders), under section 20, or through care proceedings (interim, then full care
orders). They move placement, go missing, are reviewed at about 20 working days, 3 months, then
6-monthly, and leave care home, on a special guardianship or child arrangements order, through
adoption (decision, placement order, match, placement, adoption order; some plans are reversed),
or at 18. Unaccompanied asylum-seeking children arrive as teenagers.

A long journey is as likely to be in the pool as it is to be in an LA's returns, so children in
long-term care are common, and many journeys are still open at the reference date.

Simplifications to know about:
- each file holds the **whole history** of every record open during its year; a real annual
  return holds only the episodes, plans and reviews of that year, so real journeys look cut at
  1 April until several years are combined;
- office events (conferences, reviews, court orders) fall on weekdays, but bank holidays are not
  avoided; `InitialCPCtarget` does count bank holidays;
- supported accommodation is `H5` for placements begun before 28/10/2023 and `K3` from then on;
- `REASON_PLACE_CHANGE` is on the episode that ended because of the move, as the DfE guidance
  and the 903 validator have it.

## Deliberate mess (what real files look like; no invalid data)

- Annex A labels in several styles: reason ceased `a) Adopted`, `E11` or `Adopted`, and
  `g) Special Guardianship Orders`; need `a) Abuse or neglect` or `N1`; placement
  `a) Foster placement` or `U4`; legal status `b) Full care orders` or `C2`; contact source
  `g) Police` or `g) 6: Police`.
- Gender written per list as `b) Female`, `F` or `Female`; ethnicity in list 2 sometimes `a) WBRI`.
- In the xlsx, most dates are real Excel dates (shown `dd/mm/yyyy`) and about 4% are text
  `dd/mm/YYYY`; list 1 has six empty but bordered rows after its last row; list 3's child
  identifier header is `Child unique ID ` (lower case, trailing space).
- `alternative_formats/annex_a_{year}_csv/list_6.csv` has one empty row (`,,,`) between data rows;
  the Annex A CSVs have Windows (CRLF) line ends.
- `ssda903_{year}/episodes.csv` starts with a UTF-8 byte order mark.
- Child identifiers are strings of six digits, many with leading zeros (`004512`).

Bad data (impossible dates, missing identifiers, broken files) belongs in test fixtures, not here.
"""
