"""The pull request's text, risk flags and check, from real profiles and dry runs, without git."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from agent.dags.describe import describe_schedule
from agent.dags.render import render
from agent.gitflow.changes import changes
from agent.gitflow.pr import default_branch, is_github
from agent.gitflow.pr_body import body, commit_message, title
from agent.gitflow.proposal import Proposal, check
from agent.gitflow.risks import replaced_tables, risk_flags, shortest_interval
from agent.workspace import DryRun, dry_run
from connectors.profiling import Profile
from connectors.profiling.resolve import Request, profile_request
from connectors.spec import AfterSchedule, Pipeline, parse_spec
from tests.gitflow.conftest import ROOT, SECTIONS, SUBJECT

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def spec() -> Pipeline:
    """The example spec; its path, data/orders.csv, starts at examples/ as at a repo's root."""
    return parse_spec((EXAMPLES / "orders.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def found() -> Profile:
    request = Request(str(EXAMPLES / "orders.yaml"), stream="orders")
    return profile_request(request, project_dir=EXAMPLES, rows=1000, full=False, with_quality=True)


@pytest.fixture(scope="module")
def tried(spec: Pipeline) -> DryRun:
    return dry_run(spec, EXAMPLES)


def variant(spec: Pipeline, **fields: object) -> Pipeline:
    """The spec with top-level fields, or `load`/`transform` of its stream, replaced."""
    data = spec.model_dump(mode="json")
    stream = data["streams"][0]
    for key, value in fields.items():
        if key in {"load", "transform"}:
            stream[key] = {**stream[key], **value}
        else:
            data[key] = value
    return Pipeline.model_validate(data)


def proposal(spec: Pipeline, found: Profile | str, tried: DryRun | str, **more: object) -> Proposal:
    fields: dict[str, object] = {
        "spec": spec,
        "spec_path": "pipelines/orders.yaml",
        "dag_path": f"dags/{spec.pipeline}.py",
        "new": True,
        "profiles": {"orders": found},
        "dry_run": tried,
        "risks": risk_flags(spec, {"orders": found}, tried),
    }
    return Proposal(**(fields | more))


def test_the_body_has_every_section_with_the_facts(
    spec: Pipeline, found: Profile, tried: DryRun
) -> None:
    text = body([proposal(spec, found, tried)])

    sections = [f"# {SUBJECT}", *SECTIONS[:2], "## Pipeline `orders_daily`", *SECTIONS[2:]]
    assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
    for line in (
        "  - spec `pipelines/orders.yaml`, DAG `dags/orders_daily.py`",
        "- `orders`: csv `data/orders.csv`, 11 rows, 11 sampled",
        "  - quality: duplicate key in `OrderID`: 1 row (rule `dedupe`)",
        "| `order_id` | `bigint` | `OrderID` | integer (100%) | 0.0% | key, dedupe (keep last), "
        "required |",
        "| `status` | as read (string) | `Status` | string (100%) | 0.0% | one of "
        "`new, paid, shipped, cancelled` |",
        "  - rename `OrderID` -> `order_id`, `Customer ID` -> `customer_id`",
        "  - fail the run when more than 50% of the rows are rejected",
        "| `orders` | `orders` | upsert on order_id |",
        "- runs: daily at 06:00 (`0 6 * * *`)",
        "- retries: 3, 5m apart, doubling up to 1h",
        "- on failure: nobody",
        "| `orders` | ok | 11 | 5 | 5 |",
        "- ⚠ `orders_daily`: no failure alert (alerts.on_failure): a failed run goes unnoticed",
    ):
        assert line in text.splitlines(), line
    assert "`orders` rejected 1: `column 'amount': -3.00 is below the minimum 0`" in text
    assert "with the expected tasks: `stream_orders`." in text


def test_values_from_a_source_stay_inside_code_spans(tmp_path: Path) -> None:
    (tmp_path / "odd.csv").write_text('"a|b","x`y","id"\n1,2,3\n', encoding="utf-8")
    odd = profile_request(
        Request(str(tmp_path / "odd.csv")),
        project_dir=tmp_path,
        rows=100,
        full=False,
        with_quality=True,
    )
    spec = parse_spec(
        "pipeline: odd\nstreams:\n  - name: orders\n    source: {kind: csv, path: odd.csv}\n"
        "    transform: {normalize_names: false}\n    load: {table: odd}\n"
    )
    text = body([proposal(spec, odd, "the source is gone")])

    assert "| `a\\|b` | as read (string) |" in text
    assert "| `x'y` | as read (string) |" in text
    assert "```text\nthe source is gone\n```" in text


def test_a_fence_is_longer_than_any_backtick_run_inside(spec: Pipeline) -> None:
    text = body([proposal(spec, "not profiled", "a ```fence``` inside")])

    assert "````text\na ```fence``` inside\n````" in text


def test_without_a_profile_the_schema_shows_the_declared_types(spec: Pipeline) -> None:
    text = body([proposal(spec, "no such file: data/orders.csv", "no such file")])

    assert (
        "- `orders`: csv `data/orders.csv`, not profiled: `no such file: data/orders.csv`" in text
    )
    assert "| `amount` | `decimal(12,2)` |  |  |  | fill `0`, min `0` |" in text
    assert "The source was not profiled: only the declared types are shown." in text
    assert "- ⚠ `orders_daily`: the dry run failed: `no such file`" in text


def test_an_update_lists_its_changes_and_flags_the_risky_ones(
    spec: Pipeline, found: Profile, tried: DryRun
) -> None:
    replaced = variant(spec, load={"mode": "replace", "keys": []}, schedule="@hourly")
    found_changes = changes(spec, replaced)
    text = body([proposal(replaced, found, tried, new=False, changes=found_changes)])

    assert text.startswith(
        "# Update pipeline orders_daily: data/orders.csv -> orders (replace), hourly\n"
    )
    summary = text.split("## Risk flags")[0]
    risks = text.split("## Risk flags")[1].split("## Pipeline")[0]
    assert all(f"  - changed: {change.text}" in summary for change in found_changes)
    risky = [change.text for change in found_changes if change.risk]
    assert risky
    assert all(f"- ⚠ `orders_daily`: {text}" in risks for text in risky)
    assert "- ⚠ `orders_daily`: `orders` replaces the whole content of `orders`" in risks


def test_titles_and_commit_message_of_several_pipelines(
    spec: Pipeline, found: Profile, tried: DryRun
) -> None:
    daily = proposal(spec, found, tried)
    other = proposal(variant(spec, pipeline="orders_hourly"), found, tried, new=False)

    assert title([daily, daily]) == "Add pipelines orders_daily, orders_daily"
    assert title([other, other]) == "Update pipelines orders_hourly, orders_hourly"
    assert title([daily, other]) == "Add and update pipelines orders_daily, orders_hourly"
    message = commit_message([daily, other])
    assert message.startswith("Add and update pipelines orders_daily, orders_hourly\n\n")
    assert "Update pipelines/orders.yaml and its DAG dags/orders_hourly.py:" in message
    assert "- stream orders: data/orders.csv -> orders (upsert on order_id)" in message
    assert "- schedule: daily at 06:00" in message
    assert "- target: the embedded DuckDB file" in message
    assert "- risk: no failure alert (alerts.on_failure): a failed run goes unnoticed" in message


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (None, "no schedule (manual runs)"),
        ("@daily", "daily"),
        ("0 6 * * *", "daily at 06:00"),
        ("30 7 * * 1-5", "weekdays at 07:30"),
        ("0 9 * * 1", "every Monday at 09:00"),
        ("*/15 * * * *", "every 15 minutes"),
        ("0 * * * *", "hourly"),
        ("5 * * * *", "hourly at minute 5"),
        ("0 */6 * * *", "every 6 hours"),
        ("0 6 1 * *", "cron `0 6 1 * *`"),
        ("0 6,18 * * *", "cron `0 6,18 * * *`"),
    ],
)
def test_schedules_in_words(schedule: str | None, words: str) -> None:
    assert describe_schedule(schedule) == words


def test_a_schedule_after_other_pipelines_in_words() -> None:
    one = AfterSchedule(after=["sales.orders"])
    two = AfterSchedule(after=["sales.orders", "s3://x/`y`.csv"])
    assert describe_schedule(one) == "after `sales.orders` has new data"
    assert describe_schedule(two) == "after `sales.orders` and `s3://x/'y'.csv` have new data"


def test_the_risk_rules(spec: Pipeline, found: Profile, tried: DryRun) -> None:
    risky = variant(
        spec,
        schedule="0,30 6 * * *",
        retries={"count": 0},
        load={"mode": "replace", "keys": [], "allow_empty_replace": True},
    )
    flags = risk_flags(risky, {"orders": found}, tried)

    assert flags == [
        "`orders` replaces the whole content of `orders` on every run (an empty extract "
        "empties it: allow_empty_replace)",
        "no retries: a passing network or database failure fails the run at once",
        "no failure alert (alerts.on_failure): a failed run goes unnoticed",
        "runs more often than hourly (as often as every 30 min)",
        "the dry run of `orders` rejected 5 of 11 sampled rows (type 2, required 1, range 2)",
    ]
    alerted = variant(spec, alerts={"on_failure": [{"email": "ops@example.com"}]})
    assert risk_flags(alerted, {"orders": found}, tried)[:1] == [
        "the dry run of `orders` rejected 5 of 11 sampled rows (type 2, required 1, range 2)"
    ]


def test_an_upsert_without_dedupe_is_flagged_when_the_sample_repeats_its_key(
    spec: Pipeline, found: Profile
) -> None:
    no_dedupe = variant(spec, transform={"dedupe": None})
    flags = risk_flags(no_dedupe, {"orders": found}, "not run")

    assert (
        "`orders`: 1 sampled rows repeat an upsert key (order_id) and there is no dedupe "
        "rule: the last row of each key wins, silently"
    ) in flags
    assert not any("repeat an upsert key" in flag for flag in risk_flags(spec, {}, "not run"))


def test_a_failing_stream_in_the_dry_run_is_flagged(spec: Pipeline) -> None:
    broken = variant(spec, transform={"steps": [{"udf": "no_such_module:clean"}]})
    flags = risk_flags(broken, {}, dry_run(broken, EXAMPLES))

    assert any(flag.startswith("the dry run of `orders` failed: ") for flag in flags)


def test_a_dry_run_that_rejects_every_row_is_flagged_as_failed(spec: Pipeline) -> None:
    types = {**spec.streams[0].transform.model_dump(mode="json")["types"], "note": "bigint"}
    text_as_number = variant(spec, transform={"types": types, "max_rejects": None})
    flags = risk_flags(text_as_number, {}, dry_run(text_as_number, EXAMPLES))

    assert any(
        flag.startswith("the dry run of `orders` failed: `rejected every row it could load (read")
        for flag in flags
    ), flags


def test_shortest_interval() -> None:
    assert shortest_interval(None) is None
    assert shortest_interval("@once") is None
    assert shortest_interval("@hourly").total_seconds() == 3600
    assert shortest_interval("*/5 * * * *").total_seconds() == 300


def test_replacing_an_existing_table_is_flagged(
    spec: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert replaced_tables(spec, tmp_path) == []
    assert not (tmp_path / ".dagsmith").exists()  # no replace: the target is not asked

    replacing = variant(spec, load={"mode": "replace", "keys": []})
    assert replaced_tables(replacing, tmp_path) == []  # the table is not there yet
    with closing(duckdb.connect(str(tmp_path / ".dagsmith" / "warehouse.duckdb"))) as conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER)")
    assert replaced_tables(replacing, tmp_path) == [
        "`orders` already exists in the embedded DuckDB target and will be overwritten"
    ]

    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    elsewhere = variant(replacing, target="warehouse")
    (flag,) = replaced_tables(elsewhere, tmp_path)
    assert flag.startswith("cannot tell whether replace mode overwrites tables in warehouse: ")


def test_branch_names_and_github_urls() -> None:
    assert default_branch(["orders"]) == "dagsmith/orders"
    assert default_branch(["a", "b", "c"]) == "dagsmith/a-b-c"
    assert default_branch(["a", "b", "c", "d"]) == "dagsmith/a-and-3-more"
    for url in (
        "https://github.com/acme/shop.git",
        "https://github.com/acme/shop",
        "git@github.com:acme/shop.git",
        "ssh://git@github.com/acme/shop.git",
    ):
        assert is_github(url), url
    for url in (None, "https://gitlab.com/acme/shop.git", "/srv/git/shop.git"):
        assert not is_github(url), url


def test_the_check_reports_a_dag_that_differs_from_its_spec(spec: Pipeline) -> None:
    spec_text = (EXAMPLES / "orders.yaml").read_text(encoding="utf-8")
    dag = render(spec, Path("pipelines/orders.yaml"), Path("dags"))
    contents = {"pipelines/orders.yaml": spec_text, "dags/orders_daily.py": dag.text}
    assert check(["pipelines/orders.yaml"], "dags", contents, echo=print) == []

    contents["dags/orders_daily.py"] += "raise RuntimeError('edited by hand')\n"
    problems = check(["pipelines/orders.yaml"], "dags", contents, echo=print)

    assert problems[0].startswith("dags/orders_daily.py does not match its spec")
    assert not any("dagsmith-pr-" in problem for problem in problems)  # no scratch paths
    assert any("Airflow cannot import it" in problem for problem in problems)


def test_the_body_lists_the_row_filter(spec: Pipeline) -> None:
    rule = {"any": [{"column": "status", "op": "in", "value": ["paid", "shipped"]}]}
    filtered = variant(
        spec, transform={"filter": {"all": [{"column": "amount", "op": ">=", "value": 5}, rule]}}
    )
    text = body([proposal(filtered, "not profiled", "not run")])
    assert "  - keep only rows where `amount >= 5 and (status in (paid, shipped))`" in text
