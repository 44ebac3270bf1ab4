"""Arrow compute, typed loosely.

pyarrow-stubs miss kernels (`utf8_normalize`), and reject the Python literals that Arrow's
functions accept (`pc.equal(array, "")`) and the arrays they return to one another.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute

pc: Any = pyarrow.compute


def int_range(start: int, stop: int) -> pa.Array[Any]:
    """`start, ..., stop - 1` as an Arrow array, wrapping NumPy's buffer as it is.

    Not `pa.array(ndarray)`: that imports pandas (about half a second) to ask whether the
    array is one of pandas' own.
    """
    return int_array(np.arange(start, stop, dtype=np.int64))


def int_array(values: Any) -> pa.Array[Any]:
    """A numpy int64 array as an Arrow one, sharing its buffer (see `int_range`)."""
    return pa.Int64Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values.data)])


def bool_array(flags: Any) -> pa.BooleanArray:
    """A numpy bool array as an Arrow one, its bits packed (see `int_range`)."""
    bits = pa.py_buffer(np.packbits(flags, bitorder="little").data)
    return cast("pa.BooleanArray", pa.Array.from_buffers(pa.bool_(), len(flags), [None, bits]))
