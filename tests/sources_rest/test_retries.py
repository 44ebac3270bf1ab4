"""Retries, Retry-After, the circuit breaker and timeouts, against a real local server."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from connectors.errors import SourceError, SourceUnavailable
from tests.sources_rest.conftest import (
    Answer,
    ApiServer,
    Seen,
    free_port,
    http_date,
    read_table,
    spec,
)

ROWS = {"data": [{"id": 1}, {"id": 2}]}


def _gaps(hits: list[Seen]) -> list[float]:
    return [later.at - earlier.at for earlier, later in itertools.pairwise(hits)]


def test_retry_after_in_seconds_is_honoured(api: ApiServer, tmp_path: Path) -> None:
    answers = iter([Answer(429, {"error": "slow down"}, {"Retry-After": "1"}), Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    table = read_table(spec(records="$.data[*]"), tmp_path)
    assert table.num_rows == 2
    [gap] = _gaps(api.hits("/items"))
    assert 0.9 <= gap < 1.9


def test_retry_after_as_http_date_is_honoured(api: ApiServer, tmp_path: Path) -> None:
    answers = iter([Answer(503, None, {"Retry-After": http_date(2)}), Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    assert read_table(spec(records="$.data[*]"), tmp_path).num_rows == 2
    [gap] = _gaps(api.hits("/items"))
    # An HTTP-date has whole seconds: the wait is 1 to 2 s, never the 0.05 s backoff.
    assert 0.9 <= gap < 2.9


def test_retry_after_is_capped_by_max_wait(api: ApiServer, tmp_path: Path) -> None:
    answers = iter([Answer(429, None, {"Retry-After": "3600"}), Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    source = spec(records="$.data[*]", retry={"attempts": 2, "backoff": 0.05, "max_wait": 0.5})
    assert read_table(source, tmp_path).num_rows == 2
    [gap] = _gaps(api.hits("/items"))
    assert 0.4 <= gap < 1.5


def test_503_four_times_then_200(api: ApiServer, tmp_path: Path) -> None:
    answers = iter([Answer(503)] * 4 + [Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    source = spec(records="$.data[*]", retry={"attempts": 5, "backoff": 0.02, "max_wait": 0.2})
    assert read_table(source, tmp_path).num_rows == 2
    assert len(api.hits("/items")) == 5


def test_500_forever_opens_the_breaker(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(500, {"error": "boom"})
    source = spec(
        retry={"attempts": 10, "backoff": 0.01, "max_wait": 0.05},
        breaker={"failures": 3, "reset": 60},
    )
    with pytest.raises(SourceUnavailable, match=r"failed 3 times in a row.*circuit breaker open"):
        read_table(source, tmp_path)
    assert len(api.hits("/items")) == 3
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="circuit breaker open"):
        read_table(source, tmp_path)
    assert len(api.hits("/items")) == 3, "an open breaker fails fast, without a request"
    assert time.monotonic() - started < 1


def test_breaker_lets_a_trial_through_after_reset(api: ApiServer, tmp_path: Path) -> None:
    answers = iter([Answer(500), Answer(500), Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    source = spec(
        records="$.data[*]",
        retry={"attempts": 2, "backoff": 0.01, "max_wait": 0.05},
        breaker={"failures": 2, "reset": 0.3},
    )
    with pytest.raises(SourceUnavailable, match="answered 500"):
        read_table(source, tmp_path)
    time.sleep(0.4)
    assert read_table(source, tmp_path).num_rows == 2


def test_exhausted_retries_are_transient(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(429)
    with pytest.raises(SourceUnavailable, match=r"answered 429 .*\(3 attempts\)"):
        read_table(spec(), tmp_path)
    assert len(api.hits("/items")) == 3


def test_read_timeout_is_retried_then_fails(api: ApiServer, tmp_path: Path) -> None:
    def hang(seen: Seen) -> Answer:
        api.release.wait(5)
        return Answer(200, ROWS)

    api.routes["/items"] = hang
    source = spec(timeout={"connect": 1, "read": 0.3}, retry={"attempts": 2, "backoff": 0.01})
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="failed: ReadTimeout"):
        read_table(source, tmp_path)
    assert len(api.hits("/items")) == 2
    assert time.monotonic() - started < 3


def test_connection_refused_is_transient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_API", f"http://127.0.0.1:{free_port()}")
    refused = "failed: ConnectionError: connection refused"
    with pytest.raises(SourceUnavailable, match=refused):
        read_table(spec(retry={"attempts": 2, "backoff": 0.01}), tmp_path)


def test_a_host_that_does_not_resolve_says_so_without_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_API", "http://reader:s3cret@no-such-host.invalid")
    with pytest.raises(SourceUnavailable) as caught:
        read_table(spec(retry={"attempts": 1}), tmp_path)
    assert "failed: ConnectionError: name or service not known" in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_4xx_are_not_retried(api: ApiServer, tmp_path: Path, status: int) -> None:
    api.routes["/items"] = lambda seen: Answer(status, {"error": "nope"})
    with pytest.raises(SourceError, match=f"answered {status}"):
        read_table(spec(), tmp_path)
    assert len(api.hits("/items")) == 1


def test_rate_limit_spaces_requests(api: ApiServer, tmp_path: Path) -> None:
    pages = {str(n): {"data": [{"id": n}], "next": n + 1 if n < 6 else None} for n in range(1, 7)}
    api.routes["/items"] = lambda seen: Answer(200, pages[seen.query.get("cursor", "1")])
    source = spec(
        records="$.data[*]",
        pagination={"type": "cursor", "cursor_path": "$.next"},
        rate_limit={"requests": 2, "per": "second"},
    )
    assert read_table(source, tmp_path).num_rows == 6
    hits = api.hits("/items")
    # A burst of 2, then one every 0.5 s: 6 requests span at least 2 s.
    assert hits[-1].at - hits[0].at >= 1.8
