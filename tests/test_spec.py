"""The pipeline spec: validation, located errors, a stable YAML form."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from connectors.errors import SpecError
from connectors.spec import AllOf, AnyOf, Condition, Pipeline, dump_spec, parse_spec, spec_hash
from connectors.spec.filter import filter_columns
from connectors.types import ColumnType

FULL = """\
pipeline: orders_daily
description: Daily orders into the warehouse
schedule: "0 6 * * *"
target: warehouse
retries: {count: 3, delay: 2m, exponential: true, max_delay: 1h}
alerts: {on_failure: [{email: ops@example.com}, {webhook_env: SLACK_WEBHOOK_URL}]}
streams:
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    transform:
      rename: {OrderID: order_id}
      types: {order_id: bigint, amount: "decimal(12,2)", ordered_at: timestamptz}
      required: [order_id, customer_id]
      ranges: {amount: {min: 0}}
      fill: {amount: 0}
      dedupe: {keys: [order_id], keep: last}
      steps: [{udf: "my_pkg.cleaning:normalize_country"}]
    load: {table: analytics.orders, mode: upsert, keys: [order_id]}
"""


def test_the_design_sketch_is_a_valid_spec() -> None:
    spec = parse_spec(FULL)
    stream = spec.streams[0]
    assert spec.retries.delay == timedelta(minutes=2)
    assert spec.retries.max_delay == timedelta(hours=1)
    assert stream.transform.types["amount"] == ColumnType("decimal", 12, 2)
    assert stream.load.keys == ["order_id"]
    assert stream.source.kind == "csv"


def test_yaml_round_trip_is_stable_and_hash_ignores_formatting() -> None:
    spec = parse_spec(FULL)
    text = dump_spec(spec)
    again = parse_spec(text)
    assert again == spec
    assert dump_spec(again) == text
    assert spec_hash(again) == spec_hash(spec)
    assert "decimal(12,2)" in text and "delay: 2m" in text
    # A release that adds a field with a default changes no hash (no DAG turns stale).
    later = type("Later", (Pipeline,), {"__annotations__": {"note": str}, "note": ""})
    assert spec_hash(later.model_validate(spec.model_dump())) == spec_hash(spec)
    assert spec_hash(parse_spec(FULL.replace("0 6 * * *", "0 7 * * *"))) != spec_hash(spec)


def test_errors_name_file_line_and_field_path() -> None:
    bad = FULL.replace("mode: upsert, keys: [order_id]", "mode: upsert").replace(
        "amount: {min: 0}", "amount: {minimum: 0}"
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(bad, "pipelines/orders.yaml")
    message = str(caught.value)
    assert (
        "pipelines/orders.yaml:14: streams[0].transform.ranges.amount.minimum: unknown field; "
        "did you mean min?" in message
    )
    assert "pipelines/orders.yaml:18: streams[0].load: mode 'upsert' needs keys" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: csv", "kind: exel"), "unknown kind; known kinds: 'csv', 'tsv'"),
        (("bigint", "bignum"), "unknown type 'bignum'; allowed: string, integer"),
        (("0 6 * * *", "every day"), "is not a schedule"),
        (("delay: 2m", "delay: soon"), "a duration is"),
        (("analytics.orders", "orders; drop table x"), "is not a table name"),
        (("name: orders", "name: Orders-1"), "is not a name"),
        (("order_id: bigint", "'order id': bigint"), "is not an identifier"),
        (("target: warehouse", "target: postgresql://u:p@h/db"), "is not a connection id"),
        (("my_pkg.cleaning:normalize_country", "os.system('x')"), "'package.module:function'"),
        (("ops@example.com", "not-an-email"), "email"),
    ],
)
def test_bad_values_are_refused_with_what_is_allowed(
    change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(FULL.replace(*change), "p.yaml")
    assert expected in str(caught.value)


def test_a_schedule_runs_after_other_pipelines_outputs() -> None:
    after = 'schedule: {after: [sales.orders, "s3://landing/refunds.csv"]}'
    spec = parse_spec(FULL.replace('schedule: "0 6 * * *"', after))
    assert spec.upstream == ["sales.orders", "s3://landing/refunds.csv"]
    assert parse_spec(FULL).upstream == []
    for bad, expected in (
        ("{after: []}", "p.yaml:3: schedule.after: List should have at least 1 item"),
        ("{after: [Sales]}", "schedule.after[0]: 'Sales' is not another pipeline ('pipeline')"),
        ("{after: [a.b, a.b]}", "each upstream output once; repeated: a.b"),
        ("{after: [orders_daily.x]}", "names this pipeline's own output (orders_daily.x)"),
        ("{after: [orders_daily]}", "names this pipeline's own output (orders_daily)"),
        ("{cron: '0 6 * * *'}", "schedule.cron: unknown field"),
    ):
        with pytest.raises(SpecError) as caught:
            parse_spec(FULL.replace('"0 6 * * *"', bad, 1), "p.yaml")
        assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("written", "misspelt", "expected"),
    [
        (
            "mode: upsert, keys:",
            "mode: upsert, key:",
            "load.key: unknown field; did you mean keys?",
        ),
        (
            "orders.csv}",
            "orders.csv, delimeter: ';'}",
            "delimeter: unknown field; did you mean delimiter?",
        ),
        ("dedupe:", "dedup:", "transform.dedup: unknown field; did you mean dedupe?"),
        ("keys: [order_id]}", "keys: [order_id], zzz: 1}", "load.zzz: unknown field\n"),
    ],
)
def test_an_unknown_field_names_the_fields_of_its_place_it_is_close_to(
    written: str, misspelt: str, expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(FULL.replace(written, misspelt, 1), "p.yaml")
    assert expected in str(caught.value) + "\n"


def test_yaml_syntax_error_and_duplicate_keys_give_line_and_column() -> None:
    with pytest.raises(SpecError, match=r"p.yaml:4:1: invalid YAML"):
        parse_spec("pipeline: x\nstreams:\n  - name: [unclosed\n", "p.yaml")
    with pytest.raises(SpecError, match=r"p.yaml:2:1: invalid YAML: duplicate key 'pipeline'"):
        parse_spec("pipeline: x\npipeline: y\n", "p.yaml")


@pytest.mark.parametrize("written", ["decimal(12,2)", "decimal( 12 , 2 )"])
def test_a_decimal_cut_at_its_comma_by_a_flow_mapping_says_so(written: str) -> None:
    cut = FULL.replace('"decimal(12,2)"', written)
    with pytest.raises(SpecError, match=r"p.yaml:12:\d+: amount: decimal\(.*2 ?\) is cut") as err:
        parse_spec(cut, "p.yaml")
    assert err.value.hint is not None and "quote it" in err.value.hint
    # Quoted, or one key per line, it is one value.
    decimal = ColumnType.parse("decimal(12,2)")
    assert parse_spec(FULL).streams[0].transform.types["amount"] == decimal
    flow = 'types: {order_id: bigint, amount: "decimal(12,2)", ordered_at: timestamptz}'
    lines = "types:\n        order_id: bigint\n        amount: decimal(12,2)\n"
    block = FULL.replace(flow, lines + "        ordered_at: timestamptz")
    assert parse_spec(block).streams[0].transform.types["amount"] == decimal


def test_max_rejects_accepts_count_ratio_and_percent() -> None:
    for given, expected in (("10", 10), ("0.05", 0.05), ("'2.5%'", 0.025)):
        spec = parse_spec(FULL.replace("fill: {amount: 0}", f"max_rejects: {given}"))
        assert spec.streams[0].transform.max_rejects == expected
    with pytest.raises(SpecError, match="a ratio is between 0 and 1"):
        parse_spec(FULL.replace("fill: {amount: 0}", "max_rejects: 1.5"))


def test_streams_and_tables_must_be_unique() -> None:
    doubled = FULL + FULL[FULL.index("  - name: orders") :]
    with pytest.raises(SpecError, match="each stream name must be unique; repeated: orders"):
        parse_spec(doubled)


def test_json_schema_describes_every_source_kind() -> None:
    schema = json.dumps(Pipeline.model_json_schema())
    for kind in ("csv", "tsv", "json", "jsonl", "excel", "xml", "parquet"):
        assert f'"{kind}"' in schema
    assert "Connection id of the target database" in schema


def test_specs_are_frozen() -> None:
    spec = parse_spec(FULL)
    with pytest.raises(ValueError, match="frozen"):
        spec.pipeline = "other"  # type: ignore[misc]


FILTERED = FULL.replace(
    "      fill: {amount: 0}\n",
    """\
      fill: {amount: 0}
      filter:
        all:
          - {column: amount, op: ">", value: 50}
          - {column: status, op: in, value: [paid, shipped]}
          - {column: weight_kg, op: between, value: [5, 10]}
          - {column: email, op: is_not_null}
          - any:
              - {column: country, op: "=", value: NL}
              - {column: country, op: "=", value: BE}
""",
)


def test_filter_of_the_agreed_shape_round_trips() -> None:
    spec = parse_spec(FILTERED)
    rule = spec.streams[0].transform.filter
    assert isinstance(rule, AllOf)
    first, *_, last = rule.all
    assert first == Condition(column="amount", op=">", value=50)
    assert isinstance(last, AnyOf) and len(last.any) == 2
    assert filter_columns(rule) == {"amount", "status", "weight_kg", "email", "country"}
    text = dump_spec(spec)
    assert "filter:\n      all:\n" in text and "op: is_not_null\n" in text
    assert parse_spec(text) == spec


def test_a_single_condition_is_a_filter() -> None:
    spec = parse_spec(
        FULL.replace("fill: {amount: 0}", "filter: {column: status, op: '!=', value: void}")
    )
    assert spec.streams[0].transform.filter == Condition(column="status", op="!=", value="void")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{column: a, op: '>'}", "filter: op '>' needs one value"),
        ("{column: a, op: '>', value: [1, 2]}", "op '>' needs one value (not a list"),
        ("{column: a, op: in, value: []}", "op 'in' needs a non-empty list"),
        ("{column: a, op: not_in, value: x}", "op 'not_in' needs a non-empty list"),
        ("{column: a, op: between, value: [1]}", "op 'between' needs a two-item list"),
        ("{column: a, op: is_null, value: 1}", "op 'is_null' takes no value"),
        ("{column: a, op: like, value: x}", "filter.op: Input should be '=', '!='"),
        ("{column: 'a; drop table t', op: '=', value: 1}", "is not an identifier"),
        ("{all: []}", "filter.all: List should have at least 1 item"),
        ("{any: [{column: a, op: '=', value: 1, extra: 2}]}", "filter.any[0].extra: unknown"),
        ("{all: [{column: a, op: '=', value: 1}], any: []}", "filter.any: unknown field"),
        ("{column: a, op: '=', value: {sql: 'x'}}", "filter.value"),
    ],
)
def test_bad_filters_name_the_field(rule: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(FULL.replace("fill: {amount: 0}", f"filter: {rule}"), "p.yaml")
    assert expected in str(caught.value)
    assert "p.yaml:15: streams[0].transform.filter" in str(caught.value)


def test_json_schema_explains_the_filter() -> None:
    schema = json.dumps(Pipeline.model_json_schema())
    for phrase in ("Keep only the rows that match", "two-item list [low, high]", "is_not_null"):
        assert phrase in schema
