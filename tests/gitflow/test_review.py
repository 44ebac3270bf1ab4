"""`dagsmith review` as CI runs it: real commits in a scratch repository, the real command,
and Airflow importing the DAGs at HEAD."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conftest import Cli
from tests.gitflow.conftest import ROOT, commit_all, git

ORDERS = """\
pipeline: orders_daily
schedule: "0 6 * * *"
alerts: {on_failure: [{email: ops@example.com}]}
streams:
  - name: orders
    source: {kind: csv, path: ../data/orders.csv}
    transform:
      rename: {OrderID: order_id, "Customer ID": customer_id}
      types: {order_id: bigint, customer_id: bigint, amount: "decimal(12,2)"}
      required: [order_id]
    load: {table: orders, mode: append}
"""
ITEMS = """\
pipeline: items_hourly
schedule: "@hourly"
streams:
  - name: items
    source: {kind: rest, connection: shop_api, endpoint: v1/items, records: "$.data[*]"}
    load: {table: items, mode: upsert, keys: [id]}
"""


def write(repo: Path, name: str, text: str) -> None:
    path = repo / "pipelines" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render(dagsmith: Cli, repo: Path, *specs: str) -> None:
    result = dagsmith("render", *(f"pipelines/{spec}" for spec in specs), "--out", "dags", cwd=repo)
    assert result.returncode == 0, result.stderr


def test_a_destructive_change_is_flagged_and_the_checks_pass(repo: Path, dagsmith: Cli) -> None:
    write(repo, "orders.yaml", ORDERS)
    render(dagsmith, repo, "orders.yaml")
    commit_all(repo, "orders pipeline")
    git(repo, "switch", "-q", "-c", "feature")
    changed = (
        ORDERS.replace('"0 6 * * *"', "'@hourly'")
        .replace("mode: append", "mode: replace")
        .replace('amount: "decimal(12,2)"', "amount: float")
        .replace("alerts: {on_failure: [{email: ops@example.com}]}\n", "retries: {count: 0}\n")
    )
    write(repo, "orders.yaml", changed)
    render(dagsmith, repo, "orders.yaml")
    commit_all(repo, "orders: hourly, replace")

    # No BASE: the merge base with main; --fail-on-risk turns the flags into a failure.
    result = dagsmith("review", "--out", "review.md", "--fail-on-risk", cwd=repo)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    assert (repo / "review.md").read_text(encoding="utf-8") == report
    assert report.startswith("## dagsmith review\n\nmerge base (")
    assert "1 pipeline(s) changed, 4 change(s) flagged ⚠️, checks pass." in report
    assert "\n- ⚠️ orders: write mode `append` -> `replace` (destructive: the table is " in report
    assert "\n- schedule `0 6 * * *` -> `@hourly`\n" in report
    assert "\n- ⚠️ retries 3 (every 5m, doubling, at most 1h) -> none " in report
    assert "\n- ⚠️ failure alert to `ops@example.com` removed " in report
    assert "\n- ⚠️ orders: column `amount` type `decimal(12,2)` -> `float` " in report
    assert "- ✓ `pipelines/orders.yaml` -> `dags/orders_daily.py`" in report
    assert "Traceback" not in result.stderr


def test_a_hand_edited_dag_and_a_spec_that_does_not_parse_fail_the_review(
    repo: Path, dagsmith: Cli
) -> None:
    write(repo, "orders.yaml", ORDERS)
    render(dagsmith, repo, "orders.yaml")
    commit_all(repo, "orders pipeline")
    dag = repo / "dags" / "orders_daily.py"
    lines = dag.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1) if "max_active_runs=1" in line)
    lines[number - 1] = lines[number - 1].replace("max_active_runs=1", "max_active_runs=4")
    dag.write_text("".join(lines), encoding="utf-8")
    write(repo, "broken.yaml", "pipeline: broken\nstreams:\n  - name: s\n    load: {table: t}\n")
    commit_all(repo, "tweak the DAG by hand; start another pipeline")

    result = dagsmith("review", "HEAD~1", "HEAD", cwd=repo)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    assert "no pipeline changed, nothing flagged, **checks failed for 2 of 2**." in report
    assert "- ✗ `pipelines/orders.yaml` -> `dags/orders_daily.py`" in report
    assert f"  dags/orders_daily.py:{number}: -     max_active_runs=4," in report
    assert "- ✗ `pipelines/broken.yaml`" in report
    assert "pipelines/broken.yaml:3: streams[0]: Field required" in report
    assert "/tmp" not in report  # paths are the repository's, not the scratch export's
    assert "Traceback" not in result.stderr


def test_pipelines_added_and_removed_and_a_leftover_dag(repo: Path, dagsmith: Cli) -> None:
    write(repo, "orders.yaml", ORDERS)
    render(dagsmith, repo, "orders.yaml")
    base = commit_all(repo, "orders pipeline")
    (repo / "pipelines" / "orders.yaml").unlink()
    write(repo, "items.yaml", ITEMS)
    render(dagsmith, repo, "items.yaml")
    commit_all(repo, "items instead of orders")

    result = dagsmith("review", base, cwd=repo)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    new = "### Pipeline `items_hourly`\n\n- new pipeline: 1 stream(s), schedule `@hourly`"
    assert new in report
    assert (
        "- ⚠️ newly uses connection `shop_api` for the source of stream items "
        "(a place this pipeline did not reach before)"
    ) in report
    assert "- items: new stream: rest `v1/items` via connection `shop_api` -> table" in report
    assert "### Pipeline `orders_daily`\n\n- ⚠️ pipeline removed (its tables stay)" in report
    assert "- ✓ `pipelines/items.yaml` -> `dags/items_hourly.py`" in report
    assert re.search(
        r"- ✗ `pipelines/orders.yaml` -> `dags/orders_daily.py`\n\n  ```text\n"
        r"  dags/orders_daily.py was generated from pipelines/orders.yaml, but no spec",
        report,
    )

    # Removing the leftover DAG on disk, not yet committed: --worktree sees it.
    (repo / "dags" / "orders_daily.py").unlink()
    result = dagsmith("review", base, "--worktree", cwd=repo)
    assert result.returncode == 0, result.stdout
    assert "-> the working tree: 2 pipeline(s) changed" in result.stdout
    assert "checks pass." in result.stdout


def test_bad_input_exits_2_with_a_clear_message(repo: Path, tmp_path: Path, dagsmith: Cli) -> None:
    result = dagsmith("review", "no-such-branch", cwd=repo)
    assert result.returncode == 2
    assert "unknown revision 'no-such-branch'" in result.stderr
    assert result.stdout == ""
    result = dagsmith("review", "main", "HEAD", "--worktree", cwd=repo)
    assert result.returncode == 2
    assert "give HEAD or --worktree, not both" in result.stderr
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    result = dagsmith("review", "main", cwd=outside)
    assert result.returncode == 2
    assert "is not in a git repository" in result.stderr


def test_the_example_workflow_runs_the_review_and_comments() -> None:
    workflow = yaml.safe_load(
        (ROOT / ".github" / "workflows" / "dagsmith-review.yml").read_text(encoding="utf-8")
    )
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in trigger
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    checkout = next(step for step in steps if step.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch's history is needed
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert str(python["with"]["python-version"]) == "3.11"
    runs = "\n".join(step.get("run", "") for step in steps)
    assert 'pip install -e ".[agent]"' in runs
    assert 'dagsmith review "origin/$BASE_REF" HEAD --out review.md' in runs
    assert "gh pr comment" in runs
    assert "python -m agent.security dags --lock requirements.lock" in runs
    assert "--body-file review.md" in runs
    assert job["permissions"]["pull-requests"] == "write"
