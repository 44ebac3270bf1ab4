"""`agent.gitflow.changes` on spec objects, and the report and pairing around it (no git)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from agent.dags.dagfiles import CheckResult
from agent.gitflow.changes import Change, changes
from agent.gitflow.review_repo import compare, parse_specs
from agent.gitflow.review_report import Review, markdown
from connectors.spec import Pipeline

BASE: dict[str, Any] = {
    "pipeline": "orders_daily",
    "schedule": "0 6 * * *",
    "alerts": {"on_failure": [{"email": "ops@example.com"}, {"webhook_env": "SLACK_URL"}]},
    "streams": [
        {
            "name": "orders",
            "source": {"kind": "csv", "path": "../data/orders.csv"},
            "transform": {
                "rename": {"OrderID": "order_id"},
                "types": {"order_id": "bigint", "amount": "decimal(12,2)"},
                "required": ["order_id"],
                "ranges": {"amount": {"min": 0}},
                "fill": {"amount": 0},
            },
            "load": {"table": "orders", "mode": "upsert", "keys": ["order_id"]},
            "incremental": {"cursor": "updated_at"},
        }
    ],
}


def spec(edit: Any = None) -> Pipeline:
    """The base spec, after `edit(data)` changed its plain data."""
    data = copy.deepcopy(BASE)
    if edit:
        edit(data)
    return Pipeline.model_validate(data)


def stream(data: dict[str, Any]) -> dict[str, Any]:
    return data["streams"][0]  # type: ignore[no-any-return]


def texts(found: list[Change]) -> dict[str, bool]:
    return {change.text: change.risk for change in found}


def test_the_same_spec_has_no_change() -> None:
    assert changes(spec(), spec()) == []
    assert changes(None, None) == []


def test_write_mode_to_replace_is_destructive() -> None:
    def to_replace(data: dict[str, Any]) -> None:
        stream(data)["load"] = {"table": "orders", "mode": "replace"}
        del stream(data)["incremental"]  # a replace stream cannot be incremental

    found = texts(changes(spec(), spec(to_replace)))
    mode = "orders: write mode `upsert` -> `replace` (destructive: the table is overwritten"
    assert [risk for text, risk in found.items() if text.startswith(mode)] == [True]
    # Keys vanish with the switch away from upsert: the mode's line says it all.
    assert found["orders: keys `order_id` -> none"] is False
    assert found[
        "orders: incremental cursor `updated_at` -> off "
        "(every run reads the whole source again; in append mode rows are duplicated)"
    ]


@pytest.mark.parametrize(
    ("before", "after", "risk"),
    [("append", "replace", True), ("upsert", "append", True), ("append", "upsert", False)],
)
def test_mode_switches(before: str, after: str, risk: bool) -> None:
    def mode(value: str) -> Any:
        def edit(data: dict[str, Any]) -> None:
            stream(data)["load"]["mode"] = value
            del stream(data)["incremental"]  # a replace stream cannot be incremental

        return edit

    (change,) = [c for c in changes(spec(mode(before)), spec(mode(after))) if "mode" in c.text]
    assert change.text.startswith(f"orders: write mode `{before}` -> `{after}`")
    assert change.risk is risk
    assert change.stream == "orders"
    assert change.pipeline == "orders_daily"


def test_columns_types_and_keys() -> None:
    def edit(data: dict[str, Any]) -> None:
        transform = stream(data)["transform"]
        transform["types"] = {"order_id": "bigint", "amount": "float", "paid": "boolean"}
        transform["rename"] = {"OrderID": "order_id", "Customer ID": "customer_id"}
        transform["drop"] = ["notes"]
        transform["select"] = ["order_id", "amount", "paid"]
        stream(data)["load"]["keys"] = ["order_id", "amount"]

    found = texts(changes(spec(), spec(edit)))
    assert found == {
        "orders: keys `order_id` -> `order_id`, `amount` (rows are matched on other columns: "
        "existing rows may be duplicated)": True,
        "orders: column `amount` type `decimal(12,2)` -> `float` "
        "(the target column may need a migration)": True,
        "orders: column `paid` typed `boolean`": False,
        "orders: renames `Customer ID` to `customer_id`": False,
        "orders: drops column `notes` (its data no longer reaches the table)": True,
        "orders: keeps only columns `order_id`, `amount`, `paid` "
        "(other columns no longer reach the table)": True,
    }
    back = texts(changes(spec(edit), spec()))
    assert back["orders: no longer drops column `notes`"] is False
    assert back["orders: keeps every column again (no select)"] is False
    no_type = "orders: column `paid` no longer typed (was `boolean`; it keeps the source's type)"
    assert back[no_type] is False


def test_a_column_leaving_select_is_dropped() -> None:
    def select(*columns: str) -> Any:
        return lambda data: stream(data)["transform"].update(select=list(columns))

    found = texts(changes(spec(select("order_id", "amount")), spec(select("order_id", "paid"))))
    assert found == {
        "orders: column `amount` no longer selected (its data no longer reaches the table)": True,
        "orders: column `paid` selected": False,
    }


def test_transform_rules() -> None:
    def edit(data: dict[str, Any]) -> None:
        transform = stream(data)["transform"]
        transform["required"] = ["order_id", "customer_id"]
        transform["ranges"] = {"amount": {"min": 0, "max": 1000}, "status": {"allowed": ["paid"]}}
        transform["fill"] = {}
        transform["dedupe"] = {"keys": ["order_id"]}
        transform["steps"] = [{"udf": "tests.udfs:upper_status"}]
        transform["max_rejects"] = "5%"

    assert set(texts(changes(spec(), spec(edit)))) == {
        "orders: column `customer_id` required (rows without it are rejected)",
        "orders: check of column `amount`: min `0` -> min `0`, max `1000`",
        "orders: checks column `status`: allowed `paid`",
        "orders: no longer fills nulls of column `amount` (with `0`)",
        "orders: dedupe off -> on `order_id`, keep last",
        "orders: runs user function `tests.udfs:upper_status`",
        "orders: max rejects no limit -> `5%`",
    }


def test_source_changes_and_new_hosts_and_connections_are_flagged() -> None:
    def remote(data: dict[str, Any]) -> None:
        stream(data)["source"] = {
            "kind": "parquet",
            "path": "s3://key:hunter2@lake-bucket/orders/*.parquet",
            "connection": "lake",
        }

    found = texts(changes(spec(), spec(remote)))
    assert found["orders: source kind `csv` -> `parquet`"] is False
    path = "orders: source path `../data/orders.csv` -> `s3://lake-bucket/orders/*.parquet`"
    assert found[path] is False
    assert found[
        "newly uses connection `lake` for the source of stream orders "
        "(a place this pipeline did not reach before)"
    ]
    assert found[
        "newly reaches host `s3://lake-bucket` for the source of stream orders "
        "(a place this pipeline did not reach before)"
    ]
    assert not any("hunter2" in text for text in found)  # a URL's password is never shown


def test_a_rest_source_names_its_connection_and_settings() -> None:
    def rest(endpoint: str, records: str) -> Any:
        source = {"kind": "rest", "connection": "shop_api", "endpoint": endpoint}
        return lambda data: stream(data).update(source={**source, "records": records})

    found = texts(changes(spec(rest("orders", "$")), spec(rest("v2/orders", "$.data[*]"))))
    assert found == {
        "orders: source endpoint `orders` -> `v2/orders`": False,
        "orders: source settings changed: records": False,
    }
    added = texts(changes(spec(), spec(rest("orders", "$"))))
    assert "newly uses connection `shop_api` for the source of stream orders" in " ".join(added)


def test_schedule_target_retries_and_alerts() -> None:
    def edit(data: dict[str, Any]) -> None:
        data.update(schedule="@hourly", target="warehouse", retries={"count": 0})
        data["alerts"] = {"on_failure": [{"webhook_conn": "pager"}]}

    found = texts(changes(spec(), spec(edit)))
    assert found == {
        "schedule `0 6 * * *` -> `@hourly`": False,
        "target embedded DuckDB -> `warehouse` (rows land elsewhere)": True,
        "retries 3 (every 5m, doubling, at most 1h) -> none "
        "(a failed task is no longer retried)": True,
        "failure alert to `connection pager` added": False,
        "failure alert to `ops@example.com` removed (a failure may go unnoticed)": True,
        "failure alert to `$SLACK_URL` removed (a failure may go unnoticed)": True,
        "newly uses connection `pager` for an alert webhook "
        "(a place this pipeline did not reach before)": True,
    }
    assert "schedule `@hourly` -> `0 6 * * *`" in texts(changes(spec(edit), spec()))
    after = texts(changes(spec(), spec(lambda d: d.update(schedule={"after": ["sales.x"]}))))
    assert "schedule `0 6 * * *` -> `after: sales.x`" in after


def test_who_may_act_on_the_dag() -> None:
    def access(roles: dict[str, list[str]]) -> Any:
        return lambda data: data.update(owner="sales", access=roles)

    found = texts(
        changes(spec(access({"ops": ["read"]})), spec(access({"ops": ["trigger"], "bi": ["read"]})))
    )
    assert found == {
        "role `bi` may now read this DAG (more people may act on this pipeline)": True,
        "role `ops` may trigger this DAG (was read) (what this role may do changed)": True,
    }
    removed = texts(changes(spec(access({"ops": ["read"]})), spec(lambda d: d.update(owner="x"))))
    assert removed == {
        "owner `sales` -> `x`": False,
        "role `ops` no longer has permissions of its own on this DAG": False,
    }


def test_incremental_cursor_change_is_a_risk() -> None:
    def cursor(data: dict[str, Any]) -> None:
        stream(data)["incremental"] = {"cursor": "modified_at", "lag": "1h"}

    found = texts(changes(spec(), spec(cursor)))
    assert found == {
        "orders: incremental cursor `updated_at` -> cursor `modified_at`, lag 1h "
        "(the stored watermark was taken on another column)": True
    }


def test_streams_added_and_removed_and_pipelines_added_and_removed() -> None:
    def second(data: dict[str, Any]) -> None:
        data["streams"].append(
            {
                "name": "customers",
                "source": {"kind": "sql", "connection": "shop_db", "table": "public.customers"},
                "load": {"table": "customers", "mode": "replace"},
            }
        )

    found = texts(changes(spec(), spec(second)))
    new_stream = (
        "customers: new stream: sql `public.customers` via connection `shop_db` "
        "-> table `customers`, replace"
    )
    assert found[new_stream] is False
    assert found[
        "newly uses connection `shop_db` for the source of stream customers "
        "(a place this pipeline did not reach before)"
    ]
    removed = texts(changes(spec(second), spec()))
    assert removed["customers: stream removed (table `customers` is no longer loaded; it stays)"]

    new = changes(None, spec())
    summary = "new pipeline: 1 stream(s), schedule `0 6 * * *`, target embedded DuckDB"
    assert new[0] == Change("orders_daily", None, summary)
    assert new[1].text.startswith("orders: new stream: csv `../data/orders.csv` -> table")
    assert changes(spec(), None) == [
        Change("orders_daily", None, "pipeline removed (its tables stay)", risk=True)
    ]


def test_pairing_by_name_and_specs_that_do_not_parse() -> None:
    good = "pipeline: a\nstreams: [{name: s, source: {kind: csv, path: x.csv}, load: {table: t}}]\n"
    moved = good.replace("table: t", "table: t2")
    other = good.replace("pipeline: a", "pipeline: c")
    before = parse_specs({"p/a.yaml": good, "p/b.yaml": "pipeline: [", "p/c.yaml": other})
    after = parse_specs({"p/a2.yaml": moved, "p/c.yaml": "streams: 3\n"})
    found, notes = compare(before, after)
    # a moved to another file and changed; c does not parse at HEAD: not reported as removed.
    assert [c.text for c in found] == ["s: load table `t` -> `t2`"]
    assert notes[0].startswith("`p/b.yaml` does not parse at the base")
    assert notes[1].startswith("`p/c.yaml` does not parse at the head, so the changes to `c`")


def test_markdown_flags_risks_and_fences_problems() -> None:
    review = Review(
        "`main` (1234567)",
        "`HEAD` (89abcde)",
        changes=[
            Change("orders_daily", "orders", "orders: write mode `append` -> `replace`", True),
            Change("orders_daily", None, "schedule `@daily` -> `@hourly`"),
        ],
        checks=[
            CheckResult(Path("pipelines/a.yaml"), Path("dags/a.py")),
            CheckResult(Path("pipelines/b.yaml"), None, ["line one\n  ```` sneaky fence"]),
        ],
        notes=["a note"],
    )
    text = markdown(review)
    assert text.startswith("## dagsmith review\n")
    assert "1 pipeline(s) changed, 1 change(s) flagged ⚠️, **checks failed for 1 of 2**" in text
    assert "- ⚠️ orders: write mode `append` -> `replace`\n- schedule" in text
    assert "- ✓ `pipelines/a.yaml` -> `dags/a.py`" in text
    assert (
        "- ✗ `pipelines/b.yaml`\n\n  `````text\n  line one\n    ```` sneaky fence\n  `````" in text
    )
    assert text.endswith("### Notes\n\n- a note\n")
    assert not review.ok
    assert markdown(Review("a", "b")).count("No pipeline specs at HEAD.") == 1


def test_a_row_filter_change_is_described_and_flagged() -> None:
    def add(data: dict[str, Any]) -> None:
        stream(data)["transform"]["filter"] = {
            "all": [
                {"column": "amount", "op": ">", "value": 50},
                {"column": "status", "op": "in", "value": ["paid", "shipped"]},
                {
                    "any": [
                        {"column": "country", "op": "is_null"},
                        {"column": "weight", "op": "between", "value": [5, 10]},
                    ]
                },
            ]
        }

    rule = (
        "`amount > 50 and status in (paid, shipped) and "
        "(country is null or weight between 5 and 10)`"
    )
    [added] = changes(spec(), spec(add))
    assert added.risk and added.text.startswith(f"orders: row filter none -> {rule} (other rows")
    [removed] = changes(spec(add), spec())
    assert removed.text == f"orders: row filter {rule} -> none (rows the filter left out now load)"


def test_a_schema_contract_change_is_a_risk() -> None:
    def contract(data: dict[str, Any]) -> None:
        stream(data)["contract"] = {"new_columns": "add", "type_change": "reject_rows"}

    found = texts(changes(spec(), spec(contract)))
    assert found == {
        "orders: new columns `fail` -> `add` "
        "(the load alters the table when the source gains a column)": True,
        "orders: type changes `fail` -> `reject_rows` "
        "(rows whose value no longer fits the table go to the rejects)": True,
    }
