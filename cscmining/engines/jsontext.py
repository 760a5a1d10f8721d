"""JSON text made column-wise with Arrow string kernels, for results with many rows.

``json.dumps`` of a list of a few hundred thousand dicts costs seconds; building the same text
from columns costs a fraction. Everything here writes exactly what ``json.dumps`` (default
settings: ``", "`` and ``": "`` separators, ASCII only) would write for the same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import arrow

#: a character json.dumps writes escaped (anything but printable ASCII; quote, backslash)
_ESCAPED = r'[^\x20-\x7e]|["\\]'


def _text() -> Any:
    import pyarrow as pa

    return pa.large_string()


def literal(value: str) -> Any:

    return arrow.text(value)


def strings(values: Any) -> Any:
    """JSON strings (quoted, escaped as json.dumps does) of text values (no missing ones)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values
    else:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if len(items) > 1024:  # a column of a few values repeated (a rule's name): each once
            seen: dict[Any, int] = {}
            codes = np.fromiter((seen.setdefault(v, len(seen)) for v in items),
                                dtype=np.int64, count=len(items))
            if len(seen) * 4 < len(items):
                return strings(list(seen)).take(arrow.numbers(codes))
        array = arrow.texts(items)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(_text())
    from .chunk import arrow_bools

    special = arrow_bools(pc.match_substring_regex(array, _ESCAPED))
    quoted = pc.binary_join_element_wise(literal('"'), array, literal('"'), literal(""))
    if not special.any():
        return quoted
    texts = quoted.to_pylist()
    for i in np.flatnonzero(special).tolist():
        texts[i] = json.dumps(array[i].as_py())
    return arrow.texts(texts)


def integers(values: np.ndarray) -> Any:
    import pyarrow.compute as pc

    return pc.cast(arrow.numbers(np.asarray(values).astype(np.int64)), _text())


def floats(values: np.ndarray) -> Any:
    """Floats as json.dumps writes them (``repr``: shortest round trip, ``NaN``, ``Infinity``).

    Arrow's float-to-text cast gives the same shortest digits as ``repr`` for magnitudes from
    1e-4 to 1e9 (whole numbers without ``.0``, which is added); other values (exponent forms,
    non-finite) are written by Python.
    """
    import pyarrow.compute as pc

    values = np.asarray(values, dtype=np.float64)
    if len(values) > 1024:  # many repeats (shares of one child, whole days): each once
        distinct, inverse = np.unique(values, return_inverse=True)
        if len(distinct) < len(values) // 2:
            return floats(distinct).take(arrow.numbers(inverse.astype(np.int64)))
    text = pc.cast(arrow.numbers(values), _text())
    whole = pc.match_substring_regex(text, r"^-?[0-9]+$")
    text = pc.if_else(whole, pc.binary_join_element_wise(text, literal(".0"), literal("")), text)
    size = np.abs(values)
    other = np.flatnonzero(~(((size >= 1e-4) & (size < 1e9)) | (values == 0)))
    if not len(other):
        return text
    texts = text.to_pylist()
    for i in other.tolist():
        texts[i] = json.dumps(float(values[i]))
    return arrow.texts(texts)


def dates(values: np.ndarray) -> Any:
    """``"YYYY-MM-DD"`` strings of datetime64 values."""
    import pyarrow.compute as pc

    text = np.datetime_as_string(np.asarray(values).astype("datetime64[D]"), unit="D")
    return pc.binary_join_element_wise(literal('"'), arrow.texts(text),
                                       literal('"'), literal(""))


def objects(fields: Sequence[tuple[str, Any]], after: str = "") -> Any:
    """One JSON object per row from (key, JSON text column) pairs, keys in the order given,
    each followed by ``after``."""
    import pyarrow.compute as pc

    parts: list[Any] = []
    for i, (key, column) in enumerate(fields):
        parts += [literal(("{" if i == 0 else ", ") + json.dumps(key) + ": "), column]
    parts.append(literal("}" + after))
    return pc.binary_join_element_wise(*parts, literal(""))


def lists(items: Any, lengths: np.ndarray) -> Any:
    """Per row ``a, b, c`` (no brackets): ``items`` grouped by ``lengths``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets = arrow.numbers(np.r_[0, np.cumsum(lengths)].astype(np.int64))
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, items), literal(", "))


def joined(fields: Sequence[tuple[str, Any]]) -> str:
    """The rows' JSON objects joined by ``", "`` (the inside of a JSON list)."""
    return bytes(joined_bytes(fields)).decode("ascii")


def joined_bytes(fields: Sequence[tuple[str, Any]]) -> Any:
    """`joined` as ASCII bytes: a view of Arrow's buffer (no copy)."""
    import pyarrow as pa

    rows = objects(fields, after=", ")
    if len(rows) == 0:
        return b""
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    rows = rows.cast(_text())
    if rows.offset:
        rows = pa.concat_arrays([rows])
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=len(rows) + 1)
    return memoryview(rows.buffers()[2])[int(offsets[0]): int(offsets[-1]) - 2]


def echo(parts: Any) -> None:
    """Print the parts on stdout as one line, as ``click.echo`` would print their text."""
    import sys

    sys.stdout.flush()
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write("".join(p if isinstance(p, str) else bytes(p).decode("ascii")
                                 for p in parts) + "\n")
        sys.stdout.flush()
        return
    write(stream, parts)


def write(stream: Any, parts: Any) -> None:
    """Write text and byte parts to a binary stream, then a newline (what ``click.echo`` adds)."""
    for part in parts:
        stream.write(part.encode("ascii") if isinstance(part, str) else part)
    stream.write(b"\n")
    stream.flush()
