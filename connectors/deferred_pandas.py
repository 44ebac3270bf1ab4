"""pandas kept out of pyarrow until a user step needs it.

pyarrow imports pandas the first time it converts a Python value (`pa.array([...])`,
`pc.equal(array, "")`), only to ask whether the value is a pandas object: half a second
of every `dagsmith run`, for pipelines that mostly never touch a DataFrame. `dagsmith run`
calls `defer_pandas()` before it imports the runtime, which has that first import fail, so
pyarrow goes on without pandas; `pandas()` imports it and has pyarrow take it up again. A
library user or an Airflow worker that never calls `defer_pandas()` sees pyarrow as it is.
"""

from __future__ import annotations

import sys
from types import ModuleType

import pyarrow as pa


def pandas() -> ModuleType:
    """pandas, imported by pyarrow's own shim, so its DataFrame conversions work again."""
    return pa.lib._pandas_api.pd


class _NoPandas:
    """An import finder that refuses pandas."""

    def find_spec(self, name: str, *_: object) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is deferred", name=name)


def defer_pandas() -> None:
    """Keep pandas out of this process until a step asks for it (`pandas()`)."""
    if "pandas" in sys.modules:
        return
    refuse = _NoPandas()
    sys.meta_path.insert(0, refuse)
    try:
        pa.array([])
    finally:
        sys.meta_path.remove(refuse)
