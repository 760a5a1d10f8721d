"""Normalising identifiers and coded values, vectorised over pandas Series of text.

Identifiers stay strings: ``004512`` keeps its zeros; ``12345.0`` (an id that passed through
Excel as a number) becomes ``12345`` and is flagged; ``1.2345E+05`` cannot be trusted and is
rejected. Coded values (SSDA903 codes, Annex A labels such as ``a) Adopted``) are reduced to
the form the logmaps' conditions compare against.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from .vocabulary import LEFT_CARE, Vocabulary

ID_MISSING = "ID_MISSING"
ID_CORRUPT = "ID_CORRUPT"
ID_FROM_NUMBER = "ID_FROM_NUMBER"
#: an id cell that cleaning changed (spaces, NBSP, a BOM or zero-width characters at its
#: edges, T-ID-04): the child is the same, but the export is untidy and the analyst should know
ID_NORMALISED = "ID_NORMALISED"
#: an id equal to another id of the same table once leading zeros are dropped ("000123" and
#: "123", T-ID-02): two children as far as the data says, but maybe one that lost its zeros
#: on the way through a spreadsheet
ID_LEADING_ZERO_COLLISION_RISK = "ID_LEADING_ZERO_COLLISION_RISK"

# stripped from both ends of every cell: all Unicode whitespace (NBSP included) and the
# invisible characters some exports add (zero-width spaces and joiners, word joiner, BOM)
_EDGE_CHARS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\u200b\u200c\u200d\u2060\ufeff"
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")
_E_NOTATION = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")


def clean_text(cells: pd.Series) -> pd.Series:
    """Cells as stripped strings (pandas ``str`` dtype), NaN for blank; numbers written
    without a spurious .0.

    Text columns (every CSV cell) are stripped by Arrow in one vectorised call: this runs on
    every column of every row, so a per-cell Python function here costs seconds per million
    rows. Only spreadsheet and XML columns of mixed objects are mapped cell by cell first.
    """
    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    if cells.dtype == object or cells.dtype.kind == "f":
        cells = cells.map(one)
    text = cells.astype("str").str.strip(_EDGE_CHARS)
    return text.where(text.ne(""))


def normalise_ids(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Child identifiers as strings, plus a per-cell code: ID_MISSING, ID_CORRUPT,
    ID_FROM_NUMBER, or ID_NORMALISED for a text cell that cleaning changed (each cell has
    at most one code, the first that applies in that order)."""
    ids = clean_text(cells)
    code = pd.Series(None, index=cells.index, dtype=object)
    code[_cleaned_text(cells, ids)] = ID_NORMALISED
    if cells.dtype == object:  # spreadsheet cells: a number here was an id typed as a number
        numeric = cells.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
        code[numeric.to_numpy(dtype=bool)] = ID_FROM_NUMBER
    code[ids.isna()] = ID_MISSING
    present = ids.dropna()
    as_float = present.str.fullmatch(_FLOAT_ID, na=False)
    if as_float.any():
        fixed = present[as_float].str.replace(_FLOAT_ID, r"\1", regex=True)
        ids[fixed.index] = fixed
        code[fixed.index] = ID_FROM_NUMBER
    corrupt = present.str.fullmatch(_E_NOTATION, na=False)
    code[corrupt[corrupt].index] = ID_CORRUPT
    ids[corrupt[corrupt].index] = None
    return ids, code


def _cleaned_text(cells: pd.Series, ids: pd.Series) -> np.ndarray:
    """Per cell: a text cell whose cleaned id differs from the cell as written. Spreadsheet
    numbers are left out: they are `ID_FROM_NUMBER`, a different story. Text columns compare
    in Arrow; only a spreadsheet's mixed cells go through Python objects."""
    present = ids.notna().to_numpy()
    if cells.dtype != object:
        return present & ids.ne(cells).to_numpy(dtype=bool)
    text = cells.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    return text & present & (ids.astype(object) != cells).to_numpy(dtype=bool)


def leading_zero_collisions(ids: pd.Series) -> np.ndarray:
    """Per id (normalised, None for none): another, different id of ``ids`` is the same once
    leading zeros are dropped (`ID_LEADING_ZERO_COLLISION_RISK`). Run on a table's distinct
    cells, so equal ids (" 123" and "123" both give "123") are never a collision.

    Ids equal once stripped differ only in how many zeros lead them: a group of equal
    stripped ids holds two different ids exactly when its fewest and most zeros differ. That
    takes one factorize of the stripped ids (the cost of the whole check) and no string
    comparison beyond it; a table where no id starts with a zero is passed over at once.
    """
    out = np.zeros(len(ids), dtype=bool)
    present = ids.notna().to_numpy()
    text = ids[present].astype("str")
    if not text.str.startswith("0").any():
        return out
    stripped = text.str.lstrip("0")
    zeros = (text.str.len() - stripped.str.len()).to_numpy(dtype=np.int64)
    group = pd.factorize(stripped)[0]
    fewest = np.full(group.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(fewest, group, zeros)
    most = np.zeros(group.max() + 1, dtype=np.int64)
    np.maximum.at(most, group, zeros)
    out[present] = (fewest != most)[group]
    return out


# --- collection years ----------------------------------------------------------------------

#: a code used in a collection year whose code list does not hold it (T-CD-04), e.g. PLACE H5
#: on an episode that began after 31 March 2023; the years are declared in the logmap
#: (`logmap.CodeYears`), never here
CODE_WRONG_YEAR = "CODE_WRONG_YEAR"
#: the month a collection year starts in (April): 1 April 2023 to 31 March 2024 is 2023
_YEAR_START_MONTH = 4


def collection_years(days: np.ndarray) -> np.ndarray:
    """The collection year (named by the year it starts in) of each datetime64 value; NaT
    gives a meaningless number, so callers mask NaT first."""
    months = days.astype("datetime64[M]").astype(np.int64)  # months since January 1970
    return months // 12 + 1970 - (months % 12 < _YEAR_START_MONTH - 1)


# --- coded values ----------------------------------------------------------------------

_LETTER = re.compile(r"^\(?([a-z])\)")
_REC = re.compile(r"\b(E\d{1,2}[A-Z]?|X1)\b")
_ADOPTION_PLACEMENT = re.compile(r"^A[3-6]$")


def by_value(func: Callable[..., pd.Series]) -> Callable[..., pd.Series]:
    """Run a normaliser on a column's distinct values only and spread the result back.

    Coded columns hold a handful of distinct values over millions of rows, and some string
    methods (``extract``) run per cell in Python: this keeps them off the per-row path.
    The result is an object Series aligned with the input.
    """
    @functools.wraps(func)
    def on_values(text: pd.Series, *args: object) -> pd.Series:
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        # the distinct values, then one missing value (what a blank cell becomes)
        distinct = pd.Series([*uniques.tolist(), None], dtype=text.dtype if text.dtype != object else object)
        mapped = func(distinct, *args).to_numpy(dtype=object)
        return pd.Series(mapped[np.where(codes < 0, len(uniques), codes)], index=text.index, dtype=object)

    return on_values


def _upper(text: pd.Series) -> pd.Series:
    return text.str.upper()


def _boolean(text: pd.Series) -> pd.Series:
    low = text.str.lower().str.strip()
    out = pd.Series(None, index=text.index, dtype=object)
    out[low.isin(["1", "1.0", "true", "t", "yes", "y"])] = "true"
    out[low.isin(["0", "0.0", "false", "f", "no", "n"])] = "false"
    return out


def _sex(text: pd.Series) -> pd.Series:
    """SSDA903 1/2 or M/F/U, CIN GenderCurrent 1/2/0/9 or Sex M/F/U, Annex A labels."""
    low = text.str.lower().str.replace(_LETTER, "", regex=True).str.strip()
    out = pd.Series("Unknown", index=text.index, dtype=object)
    out[low.isin(["1", "m", "male", "boy"])] = "Male"
    out[low.isin(["2", "f", "female", "girl"])] = "Female"
    out[text.isna()] = None
    return out


def _placement(text: pd.Series) -> pd.Series:
    """``adoption`` for an adoption placement (A3–A6 or a label saying so), else the code."""
    upper = text.str.upper().str.strip()
    code = upper.str.extract(r"^(?:[A-Z]\)\s*)?([A-Z]\d{1,2})\b", expand=False).fillna(upper)
    low = text.str.lower()
    adoption = code.str.fullmatch(_ADOPTION_PLACEMENT, na=False) | (
        low.str.contains("adoption", regex=False, na=False)
        & ~low.str.contains("foster", regex=False, na=False)
    )
    return code.where(~adoption, "adoption")


NORMALISERS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "text": lambda s: s,
    "upper": by_value(_upper),
    "bool": by_value(_boolean),
    "sex": by_value(_sex),
    "placement": by_value(_placement),
}


@by_value
def left_care_activities(text: pd.Series, vocabulary: Vocabulary) -> pd.Series:
    """The ``Left care: <outcome>`` activity for each REC code or Annex A reason label.

    Order of evidence: a REC code anywhere in the cell (``E45: SGO…``), then the Annex A
    letter (``g) Special guardianship…``), then the words of the label; else ``other``.
    """
    outcomes = vocabulary.left_care_outcomes
    outcome = pd.Series(None, index=text.index, dtype=object)
    upper = text.fillna("").str.upper()
    rec = upper.str.extract(_REC, expand=False)
    for name, codes in outcomes.rec_codes.items():
        outcome[rec.isin(codes) & outcome.isna()] = name
    letter = text.fillna("").str.strip().str.lower().str.extract(_LETTER, expand=False)
    for name, letters in outcomes.annex_a_letters.items():
        outcome[letter.isin(letters) & outcome.isna() & rec.isna()] = name
    low = text.fillna("").str.lower()
    words = {
        "adopted": r"\badopt",
        "special guardianship": r"guardianship|\bsgo\b",
        "child arrangements order": r"arrangements order|residence order|\bcao\b",
        "returned home": r"returned home|return(?:ed)? to (?:live with )?(?:parent|family)|\bhome\b",
        "independent living": r"independent living|independently",
    }
    for name, pattern in words.items():
        if name in outcomes.rec_codes:
            hit = low.str.contains(pattern, regex=True, na=False) & outcome.isna() & rec.isna() & letter.isna()
            outcome[hit] = name
    outcome = outcome.fillna(outcomes.default)
    return LEFT_CARE + ": " + outcome
