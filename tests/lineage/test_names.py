"""Datasets named as OpenLineage names them, and never with a secret in them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connectors import kinds
from connectors.connections import parse_connection
from connectors.dialects import dialect_for
from connectors.lineage.names import DatasetName, location
from connectors.spec.models import Stream


def _source(spec: dict[str, object]) -> object:
    stream = Stream.model_validate({"name": "s", "source": spec, "load": {"table": "t"}})
    return stream.source


def test_tables_of_each_database() -> None:
    cases = {
        ("postgresql+psycopg2://u:pw@db.example/warehouse", "sales.orders"): (
            "postgres://db.example:5432",
            "warehouse.sales.orders",
            "postgres://db.example:5432/warehouse/sales/orders",
        ),
        ("postgresql://u:pw@h:5433/test", "orders"): (
            "postgres://h:5433",
            "test.public.orders",
            "postgres://h:5433/test/public/orders",
        ),
        ("mysql+pymysql://root:pw@127.0.0.1/test", "orders"): (
            "mysql://127.0.0.1:3306",
            "test.orders",
            "mysql://127.0.0.1:3306/test/orders",
        ),
        ("duckdb:////srv/lake.duckdb", "orders"): (
            "duckdb:///srv/lake.duckdb",
            "lake.main.orders",
            "duckdb:///srv/lake.duckdb/lake/main/orders",
        ),
        ("sqlite:////srv/app.db", "orders"): ("sqlite:///srv/app.db", "orders", None),
    }
    for (url, table), (namespace, name, uri) in cases.items():
        parsed = sa.make_url(url)
        found = dialect_for(parsed).dataset(parsed, table)
        assert (found.namespace, found.name) == (namespace, name)
        assert "pw" not in found.uri
        if uri:
            assert found.uri == uri


def test_files_and_urls() -> None:
    assert location("/data/in/orders.csv") == DatasetName("file", "/data/in/orders.csv")
    assert location("/data/in/orders.csv").uri == "file:///data/in/orders.csv"
    s3 = location("s3://AKIA:secret@bucket/exports/2025/*.parquet")
    assert (s3.namespace, s3.name) == ("s3://bucket", "exports/2025/*.parquet")
    assert s3.uri == "s3://bucket/exports/2025/*.parquet"
    spec = _source({"kind": "csv", "path": "data/orders.csv"})
    (found,) = kinds.kind_of(spec).datasets(spec, None, Path("/srv/project/pipelines"))
    assert found == DatasetName("file", "/srv/project/pipelines/data/orders.csv")


def test_connections_of_apis_feeds_topics_and_queries_hold_no_secret() -> None:
    api = parse_connection("shop", "https://user:tok3n@api.shop.example/v2")
    spec = _source({"kind": "rest", "connection": "shop", "endpoint": "orders"})
    (found,) = kinds.kind_of(spec).datasets(spec, api, Path())
    assert (found.namespace, found.name) == ("https://api.shop.example/v2", "/orders")

    broker = parse_connection("events", "kafka://user:s3cret@broker.example:9093")
    spec = _source({"kind": "kafka", "connection": "events", "topics": ["orders", "returns"]})
    topics = kinds.kind_of(spec).datasets(spec, broker, Path())
    assert [(t.namespace, t.name) for t in topics] == [
        ("kafka://broker.example:9093", "orders"),
        ("kafka://broker.example:9093", "returns"),
    ]

    db = parse_connection("src", "postgresql://u:pw9@db.example:5432/shop")
    spec = _source(
        {
            "kind": "sql",
            "connection": "src",
            "query": "WITH r AS (SELECT * FROM sales.returns) "
            "SELECT o.id FROM sales.orders o JOIN r ON r.id = o.id JOIN customers c ON true",
        }
    )
    found_tables = kinds.kind_of(spec).datasets(spec, db, Path())
    assert sorted(t.name for t in found_tables) == [
        "shop.public.customers",
        "shop.sales.orders",
        "shop.sales.returns",
    ]
    every = [*found_tables, *topics, found]
    assert not any(s in repr(every) for s in ("tok3n", "s3cret", "pw9", "user"))
