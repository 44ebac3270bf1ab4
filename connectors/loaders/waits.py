"""When a load that waits for a lock says so: the same cadence on every target."""

FIRST = 5.0
"""Seconds of a load before it first says it waits: most loads are done by then."""
EVERY = 30.0
"""Seconds between later lines, while the wait lasts."""
