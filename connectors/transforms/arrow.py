"""Arrow compute, typed loosely.

pyarrow-stubs miss kernels (`utf8_normalize`), and reject the Python literals that Arrow's
functions accept (`pc.equal(array, "")`) and the arrays they return to one another.
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute

pc: Any = pyarrow.compute
