"""Per-host guards shared by every request of the process: a token bucket and a breaker.

Both are keyed by origin (scheme, host, port) and by their settings, so two streams
calling one API with the same settings share one budget and one breaker.
"""

from __future__ import annotations

import threading
import time

from connectors.errors import SourceUnavailable
from connectors.spec.rest import Breaker, RateLimit


class TokenBucket:
    """Allows `rate` requests per second on average, with bursts up to `capacity`."""

    def __init__(self, rate: float, capacity: int) -> None:
        self._rate = rate
        self._capacity = float(capacity)
        self._tokens = float(capacity)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            self._tokens -= 1
            # A negative balance is the wait this caller owes; later callers queue behind it.
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait:
            time.sleep(wait)


class CircuitBreaker:
    """Opens after `failures` consecutive failures; lets one trial through after `reset` s."""

    def __init__(self, origin: str, settings: Breaker) -> None:
        self._origin = origin
        self._settings = settings
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Fail fast while the breaker is open."""
        with self._lock:
            if self._opened_at is None:
                return
            left = self._opened_at + self._settings.reset - time.monotonic()
            if left <= 0:
                # Half-open: this caller is the trial; a failure reopens at once.
                self._opened_at = None
                self._failures = self._settings.failures - 1
                return
        raise SourceUnavailable(
            f"{self._origin} failed {self._settings.failures} times in a row; "
            f"not calling it for another {left:.0f} s (circuit breaker open)",
            hint="check that the API is up; the run can be retried later",
        )

    def success(self) -> None:
        """Record a request the host answered properly."""
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def failure(self) -> None:
        """Record a server error, timeout or dropped connection."""
        with self._lock:
            self._failures += 1
            if self._failures >= self._settings.failures:
                self._opened_at = time.monotonic()


_lock = threading.Lock()
_buckets: dict[tuple[str, RateLimit], TokenBucket] = {}
_breakers: dict[tuple[str, Breaker], CircuitBreaker] = {}


def bucket_for(origin: str, limit: RateLimit) -> TokenBucket:
    """The process-wide request budget of a host."""
    with _lock:
        key = (origin, limit)
        if key not in _buckets:
            _buckets[key] = TokenBucket(limit.per_second, limit.requests)
        return _buckets[key]


def breaker_for(origin: str, settings: Breaker) -> CircuitBreaker:
    """The process-wide circuit breaker of a host."""
    with _lock:
        key = (origin, settings)
        if key not in _breakers:
            _breakers[key] = CircuitBreaker(origin, settings)
        return _breakers[key]
