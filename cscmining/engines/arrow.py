"""Arrow arrays from numpy arrays and Python strings, built from their buffers.

``pyarrow.array`` and ``pyarrow.scalar`` import pandas the first time they are called (to look
for pandas types), which costs a quarter of a second at start-up: a command like ``variants
--json`` that never needs pandas would pay it for turning a few numbers into Arrow. These
helpers make the same arrays straight from the buffers, which never touches pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def numbers(values: np.ndarray) -> Any:
    """A numpy array of numbers as an Arrow array (no missing values)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def texts(values: Sequence[str] | np.ndarray) -> Any:
    """Python strings (a list, or a numpy array of str or object) as a large_string array."""
    import pyarrow as pa

    if isinstance(values, np.ndarray) and values.dtype.kind == "U" and len(values):
        # fixed-width ASCII text of one length (dates): its bytes are the data buffer as is
        width = values.dtype.itemsize // 4
        if (np.char.str_len(values) == width).all():
            try:
                data = values.astype(f"S{width}")
            except UnicodeEncodeError:
                data = None
            if data is not None:
                offsets = np.arange(len(values) + 1, dtype=np.int64) * width
                return pa.Array.from_buffers(pa.large_string(), len(values),
                                             [None, pa.py_buffer(offsets),
                                              pa.py_buffer(data.tobytes())])
    if isinstance(values, np.ndarray):
        values = values.tolist()
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.large_string(), len(encoded),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def text(value: str) -> Any:
    """One string as an Arrow scalar (large_string)."""
    return texts([value])[0]
