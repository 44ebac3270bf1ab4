"""How a dataset is named for lineage: OpenLineage's conventions, and the URI they make.

A namespace names the data source without secrets (`postgres://host:5432`, `s3://bucket`,
`file`, an API's base URL); the name is the dataset within it (`db.schema.table`, a path,
an endpoint). The URI is what Airflow names the same dataset's Asset with: the namespace,
then the name's parts as a path (`postgres://host:5432/db/schema/table`, as Airflow's own
providers spell a table; `file:///data/orders.csv`; `s3://bucket/key`). A run is named by
`run_uuid`, which a stream run's traces take as their trace id too (`connectors.traces`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit


@dataclass(frozen=True)
class DatasetName:
    """One dataset as OpenLineage names it."""

    namespace: str
    name: str
    parts: tuple[str, ...] = ()
    """A table's name parts (database, schema, table); empty for a path or an endpoint."""

    @property
    def uri(self) -> str:
        """The dataset's URI, as an Airflow Asset names it."""
        if self.parts:
            return f"{self.namespace}/{'/'.join(self.parts)}"
        if "://" not in self.namespace:
            return f"{self.namespace}://{self.name}"
        return f"{self.namespace.rstrip('/')}/{self.name.lstrip('/')}"


def table(namespace: str, *parts: str | None) -> DatasetName:
    """A table: its name is its parts joined by dots (`db.schema.table`); empty parts skipped."""
    kept = tuple(part for part in parts if part)
    return DatasetName(namespace, ".".join(kept), kept)


def location(path: str) -> DatasetName:
    """A file or object: `file` and the absolute path, or a URL's origin and its path.

    Any user and password in the URL's authority are left out of the namespace.
    """
    parts = urlsplit(path)
    if len(parts.scheme) <= 1 or not parts.netloc:  # a local path (or a Windows drive)
        return DatasetName("file", str(PurePosixPath(path)))
    host = parts.netloc.rpartition("@")[2]
    return DatasetName(f"{parts.scheme}://{host}", parts.path.lstrip("/") or "/")


def endpoint(base_url: str, path: str) -> DatasetName:
    """An HTTP (or WebSocket) endpoint: the connection's base URL, then the endpoint path."""
    return DatasetName(base_url.rstrip("/"), "/" + path.lstrip("/"))


def run_uuid(*parts: str) -> str:
    """A run's OpenLineage id: a UUID derived from its identity, the same in every task."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dagsmith:" + ":".join(parts)))
