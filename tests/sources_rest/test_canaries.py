"""No secret, in any encoding, leaves `dagsmith run` through any door.

A loopback server echoes every header, query and body it receives, in 200 (rows that
the transform then rejects, so the echo reaches the rejects table), 401 and 500 answers,
for every REST auth kind. The secret holds characters that URL, JSON and base64 encode
differently; stdout, stderr (logs, as JSON), `--json`, the run records and the rejects
must hold none of its forms.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from connectors.masking import derived_forms
from tests.conftest import Cli
from tests.sources_rest.conftest import Answer, ApiServer, Seen

CANARY = 'c4n4ry/Tok+en"é&=x'
ISSUED = "c4n4ry-issued+token/42"
AUTHS: dict[str, dict[str, Any]] = {
    "bearer": {"type": "bearer"},
    "basic": {"type": "basic"},
    "key_header": {"type": "api_key", "in": "header", "name": "X-Key"},
    "key_query": {"type": "api_key", "in": "query", "name": "key"},
    "oauth_basic": {"type": "oauth2_client_credentials", "token_path": "oauth/token"},
    "oauth_body": {
        "type": "oauth2_client_credentials",
        "token_path": "oauth/token",
        "client_auth": "body",
    },
}


def _echo(seen: Seen) -> dict[str, Any]:
    return {"headers": seen.headers, "query": seen.query, "body": seen.body.decode()}


def _routes(api: ApiServer) -> None:
    api.routes["/ok"] = lambda seen: Answer(200, [{"id": "not a date", "echo": _echo(seen)}])
    api.routes["/denied"] = lambda seen: Answer(401, {"error": "no", "echo": _echo(seen)})
    api.routes["/broken"] = lambda seen: Answer(500, {"error": "oops", "echo": _echo(seen)})
    api.routes["/oauth/token"] = lambda seen: Answer(
        200, {"access_token": ISSUED, "expires_in": 3600, "echo": _echo(seen)}
    )


def _spec(auth: dict[str, Any]) -> str:
    streams = "".join(
        f"""  - name: {name}
    source:
      kind: rest
      connection: api
      endpoint: {name}
      auth: {json.dumps(auth)}
      retry: {{attempts: 2, backoff: 0.05, max_wait: 1}}
    transform: {{types: {{id: date}}}}
    load: {{table: t_{name}}}
"""
        for name in ("ok", "denied", "broken")
    )
    return f"pipeline: canary\nstreams:\n{streams}"


def _forms() -> set[str]:
    forms: set[str] = set()
    for secret in (CANARY, ISSUED, f"client:{CANARY}"):
        forms |= derived_forms(secret)
    forms.add(base64.b64encode(f"client:{CANARY}".encode()).decode()[:16])
    return forms | {"c4n4ry"}


def _stored(folder: Path) -> str:
    """Every row of every table the run left in the embedded DuckDB, as text."""
    warehouse = folder / ".dagsmith" / "warehouse.duckdb"
    assert warehouse.is_file(), "the run wrote nothing: the search below would be vacuous"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = conn.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        assert any(name.endswith("_dagsmith_runs") for _, name in tables)
        rows = [conn.execute(f'SELECT * FROM "{s}"."{t}"').fetchall() for s, t in tables]
        return json.dumps(rows, default=str)


@pytest.mark.parametrize("kind", sorted(AUTHS))
def test_no_canary_leaves_a_run(kind: str, api: ApiServer, tmp_path: Path, dagsmith: Cli) -> None:
    _routes(api)
    port = api.server_address[1]
    (tmp_path / "p.yaml").write_text(_spec(AUTHS[kind]))
    env = {
        "AIRFLOW_CONN_API": f"http://client:{quote(CANARY, safe='')}@127.0.0.1:{port}",
        "DAGSMITH_LOG_FORMAT": "json",
    }
    result = dagsmith("-v", "run", "p.yaml", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    streams = {s["stream"]: s for s in json.loads(result.stdout)["streams"]}
    assert streams["ok"]["rows_rejected"] == 1 and streams["ok"]["status"] == "ok"
    assert "401" in streams["denied"]["error"] and "500" in streams["broken"]["error"]
    sent = json.dumps([s.headers | s.query | {"body": s.body.decode()} for s in api.seen])
    assert any(form in sent for form in _forms()), "the server did receive the secret"
    doors = {"stdout": result.stdout, "stderr": result.stderr, "database": _stored(tmp_path)}
    hits = {door: sorted(f for f in _forms() if f in text) for door, text in doors.items()}
    assert hits == {door: [] for door in doors}


def test_inside_an_airflow_task_secrets_join_airflows_masker() -> None:
    code = (
        "import base64, airflow.sdk.execution_time.task_runner\n"
        "from airflow.sdk.log import _secrets_masker\n"
        "from connectors.masking import Masker\n"
        f"Masker().add_login('client', {CANARY!r})\n"
        f"basic = base64.b64encode('client:{CANARY}'.encode()).decode()\n"
        "print(_secrets_masker().redact(f'Authorization: Basic {basic}'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.startswith("Authorization: Basic ***"), result.stdout
    assert not any(form in result.stdout for form in _forms())


def test_a_chat_transcript_masks_every_form(tmp_path: Path) -> None:
    code = (
        "import base64, pathlib, sys\n"
        "from urllib.parse import quote\n"
        "from agent.chat.session import Transcript\n"
        "from connectors.connections import parse_connection\n"
        "from connectors.sources.http.auth import masker_for\n"
        "canary, folder = sys.argv[1], pathlib.Path(sys.argv[2])\n"
        "uri = 'http://client:' + quote(canary, safe='') + '@127.0.0.1'\n"
        "masker_for(parse_connection('api', uri))\n"
        "basic = base64.b64encode(f'client:{canary}'.encode()).decode()\n"
        "transcript = Transcript(folder, 'offline')\n"
        "transcript.write(f'echoed: Basic {basic}, token {canary}')\n"
        "print(transcript.path.read_text())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, CANARY, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "echoed: Basic ***, token ***" in result.stdout
    assert not any(form in result.stdout for form in _forms())
