"""Arrow compute, typed loosely.

pyarrow-stubs miss kernels (`utf8_normalize`), and reject the Python literals that Arrow's
functions accept (`pc.equal(array, "")`) and the arrays they return to one another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute

pc: Any = pyarrow.compute


def int_range(start: int, stop: int) -> pa.Array[Any]:
    """`start, ..., stop - 1` as an Arrow array, wrapping NumPy's buffer as it is.

    Not `pa.array(ndarray)`: that imports pandas (about half a second) to ask whether the
    array is one of pandas' own.
    """
    values = np.arange(start, stop, dtype=np.int64)
    return pa.Int64Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values.data)])
