"""dagsmith's design-time side: the CLI, the agent, rendering and review."""

from __future__ import annotations
