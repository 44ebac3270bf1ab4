"""A feed as a user names it: `build` from a sentence with a ws:// URL and `init` from the
URL write specs that run as written, the URL's origin saved as a connection of their own."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.spec import parse_spec
from connectors.spec.websocket import WebSocketSource
from tests.conftest import Cli
from tests.sources_ws.conftest import FeedServer, Script

PRICES = ({"id": 1, "price": 2.5}, {"id": 2, "price": 3.0})


def _loaded(dagsmith: Cli, spec: Path, cwd: Path) -> int:
    ran = dagsmith("run", str(spec), "--json", cwd=cwd)
    assert ran.returncode == 0, ran.stderr
    rows: int = json.loads(ran.stdout)["streams"][0]["rows_loaded"]
    return rows


def test_build_reads_a_feed_from_a_sentence_and_what_it_writes_runs(
    feed: FeedServer, tmp_path: Path, dagsmith: Cli
) -> None:
    feed.scripts = [Script(PRICES, subscribes=0, then="close")]
    url = f"{feed.url}/v1/prices?depth=5"
    request = f"read the websocket at {url} into raw.prices for 2 seconds, call it prices"
    built = dagsmith("build", request, cwd=tmp_path, env={"DAGSMITH_MODEL": "offline"})
    assert built.returncode == 0, built.stdout + built.stderr
    spec = tmp_path / "pipelines" / "prices.yaml"
    source = parse_spec(spec.read_text()).streams[0].source
    assert isinstance(source, WebSocketSource)
    assert (source.connection, source.endpoint, source.params) == (
        "prices_source",
        "v1/prices",
        {"depth": "5"},
    )
    assert source.max_seconds == 2
    assert feed.url in (tmp_path / ".env").read_text()  # the origin, as a connection
    assert _loaded(dagsmith, spec, tmp_path) > 0
    assert feed.sessions[-1].path == "/v1/prices?depth=5"


def test_init_writes_a_feed_spec_that_runs_as_written(
    feed: FeedServer, tmp_path: Path, dagsmith: Cli
) -> None:
    feed.scripts = [Script(PRICES, subscribes=0, then="close")]
    made = dagsmith("init", f"{feed.url}/ticks", "--name", "ticks", cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    spec = tmp_path / "pipelines" / "ticks.yaml"
    source = parse_spec(spec.read_text()).streams[0].source
    assert isinstance(source, WebSocketSource) and source.endpoint == "ticks"
    assert _loaded(dagsmith, spec, tmp_path) > 0
