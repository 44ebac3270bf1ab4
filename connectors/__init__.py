"""dagsmith's run-time library: specs, sources, transforms and loaders.

Airflow workers install this package alone; it never imports `agent`, LangChain or Jinja.
"""

from __future__ import annotations

__version__ = "0.1.0"
