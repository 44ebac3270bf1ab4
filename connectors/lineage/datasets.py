"""The datasets a stream reads and writes, named once for OpenLineage events and Airflow Assets.

Both ask the same two questions with the same answers: what the source reads (each kind
names its datasets, from its connection when it has one) and which table the load writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors import kinds
from connectors.connections import Connection, get_connection
from connectors.dialects import dialect_for
from connectors.lineage.names import DatasetName

if TYPE_CHECKING:
    import sqlalchemy as sa

    from connectors.spec.models import Stream


def source(
    stream: Stream, base_dir: Path, connection: Connection | None
) -> tuple[DatasetName, ...]:
    """What the stream's source reads, as its kind names it (`connection`: the source's own)."""
    spec = stream.source
    kind = kinds.kind_of(spec)
    if kind.datasets is None:
        return (DatasetName(f"dagsmith://{kind.name}", kind.label(spec)),)
    return kind.datasets(spec, connection, base_dir)


def source_connection(stream: Stream, project_dir: Path) -> Connection | None:
    """The source's connection, when its kind has one."""
    conn_id = getattr(stream.source, "connection", None)
    return get_connection(conn_id, project_dir) if conn_id else None


def table(url: sa.URL, name: str) -> DatasetName:
    """A table of the database at `url`."""
    return dialect_for(url).dataset(url, name)
