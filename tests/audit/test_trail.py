"""The audit trail's hash chain: an edited, removed or reordered record fails --verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.audit import trail
from agent.audit.middleware import masked
from connectors import masking


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    path = tmp_path / ".dagsmith" / "audit.jsonl"
    for step in ("profile_source", "validate_spec", "render_dag", "save_pipeline"):
        trail.append(path, {"command": "build", "run": "r1", "tool": step, "result": "ok"})
    return path


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_an_intact_chain_verifies(chain: Path) -> None:
    records = list(trail.read(chain))
    assert records[0]["prev"] == trail.GENESIS
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert trail.verify(chain) == trail.Verification(4, [])


def test_an_edited_record_is_found(chain: Path) -> None:
    text = lines(chain)
    record = json.loads(text[1])
    record["result"] = "error: nothing to see"
    text[1] = json.dumps(record, sort_keys=True) + "\n"
    chain.write_text("".join(text))
    expected = f"record 2 ({record['time']}): edited after it was written"
    assert trail.verify(chain).problems == [expected]


def test_an_edited_record_with_its_hash_recomputed_breaks_the_next_link(chain: Path) -> None:
    text = lines(chain)
    record = json.loads(text[1])
    record["tool"] = "dry_run"
    record["hash"] = trail.record_hash(record)
    text[1] = json.dumps(record, sort_keys=True) + "\n"
    chain.write_text("".join(text))
    (problem,) = trail.verify(chain).problems
    assert problem.startswith("record 3 (") and "the record before it was removed" in problem


@pytest.mark.parametrize("removed", [0, 2])
def test_a_removed_record_is_found(chain: Path, removed: int) -> None:
    text = lines(chain)
    del text[removed]
    chain.write_text("".join(text))
    (problem,) = trail.verify(chain).problems
    assert f"record {removed + 1} (" in problem and "removed" in problem


def test_swapped_records_are_found(chain: Path) -> None:
    text = lines(chain)
    text[1], text[2] = text[2], text[1]
    chain.write_text("".join(text))
    assert len(trail.verify(chain).problems) == 3


def test_a_line_that_is_not_json_is_named(chain: Path) -> None:
    chain.write_text(chain.read_text() + "garbage\n")
    (problem,) = trail.verify(chain).problems
    assert problem.endswith(":5: not a JSON record (Expecting value)")


def test_appending_continues_the_chain(chain: Path) -> None:
    record = trail.append(chain, {"command": "pr", "tool": "open_pull_request"})
    assert record["prev"] == list(trail.read(chain))[-2]["hash"]
    assert trail.verify(chain).problems == []


def test_a_record_masks_url_passwords_and_registered_secrets() -> None:
    masking.register("tok-9f8e7d6c5b4a")
    text = masked("GET https://api.example.com?k=tok-9f8e7d6c5b4a from mysql://bob:pw-123@db/x")
    assert (
        text == f"GET https://api.example.com?k={masking.MASK} from mysql://bob:{masking.MASK}@db/x"
    )
