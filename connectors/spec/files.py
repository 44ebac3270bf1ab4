"""File source specs, one model per `kind` (registered in `connectors.kinds`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from connectors.spec.base import ConnectionId, SourceModel


class FileSource(SourceModel):
    """Fields shared by every file source."""

    path: str = Field(
        min_length=1,
        description=(
            "A local path (relative to the spec file's folder) or an fsspec URL such as "
            "s3://bucket/key.csv. Glob patterns (data/*.csv) read every match in name order."
        ),
    )
    connection: ConnectionId | None = Field(
        default=None,
        description=(
            "Connection id holding the storage credentials of a remote URL (for s3://: login = "
            "access key id, password = secret key, extra endpoint_url / region_name)."
        ),
    )
    compression: Literal["infer", "gzip", "bz2", "zstd", "xz", "none"] = Field(
        default="infer", description="Compression of the file; 'infer' goes by its suffix."
    )


class CsvSource(FileSource):
    """Delimited text: CSV, TSV or any single-character delimiter."""

    kind: Literal["csv", "tsv"]
    delimiter: str | None = Field(
        default=None,
        min_length=1,
        max_length=1,
        description="Field delimiter; default ',' for csv and a tab for tsv.",
    )
    quote: str | None = Field(
        default='"', max_length=1, description="Quote character, or null for none."
    )
    escape: str | None = Field(
        default=None, max_length=1, description="Escape character inside quoted values."
    )
    encoding: str = Field(
        default="utf-8",
        description="Text encoding (utf-8, cp1252, latin-1, utf-16...). A UTF-8 BOM is skipped.",
    )
    header: bool = Field(default=True, description="Whether the first row names the columns.")
    columns: list[str] | None = Field(
        default=None, description="Column names when the file has no header row."
    )
    skip_rows: int = Field(default=0, ge=0, description="Lines to skip before the header.")
    null_values: list[str] = Field(default_factory=lambda: [""], description="Values read as null.")
    ragged: Literal["error", "reject", "pad"] = Field(
        default="error",
        description=(
            "Rows with a wrong number of fields: fail with the line number ('error'), "
            "send them to the rejects table ('reject'), or pad/truncate them ('pad')."
        ),
    )

    @property
    def sep(self) -> str:
        """The delimiter in force."""
        return self.delimiter or ("\t" if self.kind == "tsv" else ",")


class JsonSource(FileSource):
    """A JSON document holding an array of records, or records under a path."""

    kind: Literal["json"]
    records_path: str | None = Field(
        default=None,
        description="Dotted path to the array of records (e.g. 'data.items'); null if top-level.",
    )
    encoding: str = "utf-8"


class JsonlSource(FileSource):
    """Newline-delimited JSON: one record per line."""

    kind: Literal["jsonl"]
    encoding: str = "utf-8"


class ExcelSource(FileSource):
    """An .xlsx workbook sheet."""

    kind: Literal["excel"]
    sheet: str | int = Field(default=0, description="Sheet name, or 0-based index.")
    header_row: int = Field(default=1, ge=1, description="1-based row holding the column names.")


class XmlSource(FileSource):
    """An XML document; each element matching `record_path` is one record."""

    kind: Literal["xml"]
    record_path: str = Field(
        min_length=1,
        description=(
            "Slash-separated element path of one record, from the root (e.g. 'orders/order'). "
            "Child elements and attributes become columns."
        ),
    )

    @field_validator("record_path")
    @classmethod
    def _simple_path(cls, value: str) -> str:
        parts = value.strip("/").split("/")
        if not all(
            part.replace("_", "a").replace("-", "a").replace(":", "a").isalnum() for part in parts
        ):
            raise ValueError("record_path is a slash-separated list of element names")
        return value.strip("/")


class ParquetSource(FileSource):
    """An Apache Parquet file (or a glob of them)."""

    kind: Literal["parquet"]
    columns: list[str] | None = Field(default=None, description="Read only these columns.")
