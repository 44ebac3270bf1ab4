"""The pipeline spec: the one contract between the LLM, the templates and the runtime."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from connectors.spec.access import ACCESS_DESCRIPTION, DagTag, Owner, Permission, Role
from connectors.spec.base import (
    ColumnKey,
    ConnectionId,
    Duration,
    Email,
    Identifier,
    ImportPath,
    PipelineName,
    SpecModel,
    TableName,
    UpstreamOutput,
)
from connectors.spec.filter import Filter
from connectors.spec.monitor import PipelineMonitor, PipelineMonitors, StreamMonitor
from connectors.spec.protect import (
    PROTECT_DESCRIPTION,
    ProtectRule,
    protect_problems,
    stream_problems,
)
from connectors.spec.sources import SourceSpec
from connectors.spec.types import SpecType

SCHEDULE_PRESETS = ("@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly")
Scalar = str | int | float | bool


class Retries(SpecModel):
    """How Airflow retries a failed task."""

    count: int = Field(default=3, ge=0, le=50, description="Retries after the first attempt.")
    delay: Duration = Field(default=timedelta(minutes=5), description="Wait before a retry.")
    exponential: bool = Field(default=True, description="Double the wait after each retry.")
    max_delay: Duration = Field(
        default=timedelta(hours=1), description="Upper bound of the wait (always set)."
    )

    @model_validator(mode="after")
    def _bounded(self) -> Retries:
        if self.max_delay < self.delay:
            raise ValueError("max_delay must be at least delay")
        return self


class EmailAlert(SpecModel):
    """Send an email (through Airflow's SMTP settings)."""

    email: Email


class WebhookAlert(SpecModel):
    """POST a JSON message to a webhook whose URL is kept outside the spec."""

    webhook_env: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,127}$")] | None = Field(
        default=None, description="Environment variable holding the webhook URL."
    )
    webhook_conn: ConnectionId | None = Field(
        default=None, description="Connection id whose host/URL is the webhook."
    )

    @model_validator(mode="after")
    def _one_source(self) -> WebhookAlert:
        if (self.webhook_env is None) == (self.webhook_conn is None):
            raise ValueError("give exactly one of webhook_env or webhook_conn")
        return self


Alert = EmailAlert | WebhookAlert


class Alerts(SpecModel):
    """Who hears about a run."""

    on_failure: list[Alert] = Field(default_factory=list)
    on_success: list[Alert] = Field(default_factory=list)


class AfterSchedule(SpecModel):
    """Run when other pipelines' outputs have new data: Airflow's data-aware scheduling."""

    after: list[UpstreamOutput] = Field(
        min_length=1,
        max_length=50,
        description=(
            "'pipeline' (every stream's target table, from the spec of that name in the same "
            "folder), 'pipeline.stream' (that stream's) or an Airflow Asset URI; the DAG runs "
            "once each has been updated since its last run."
        ),
    )

    @field_validator("after")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if dupes := sorted({item for item in value if value.count(item) > 1}):
            raise ValueError(f"each upstream output once; repeated: {', '.join(dupes)}")
        return value


def _schedule_form(value: object) -> str:
    return "after" if isinstance(value, dict | AfterSchedule) else "cron"


Schedule = Annotated[
    Annotated[str, Tag("cron")] | Annotated[AfterSchedule, Tag("after")],
    Discriminator(_schedule_form),
]
"""A time schedule (cron or preset), or `{after: [...]}`; an error speaks of the form used."""


class Range(SpecModel):
    """Bounds on a column's values; a row outside them is rejected."""

    min: Scalar | None = None
    max: Scalar | None = None
    allowed: list[Scalar] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _something(self) -> Range:
        if self.min is None and self.max is None and self.allowed is None:
            raise ValueError("give min, max or allowed")
        return self


class Dedupe(SpecModel):
    """Keep one row per key."""

    keys: list[Identifier] = Field(min_length=1)
    keep: Literal["first", "last"] = "last"


class Strings(SpecModel):
    """Normalising of text columns (all of them, or those listed)."""

    columns: list[Identifier] | None = Field(default=None, description="Null means every column.")
    trim: bool = True
    empty_as_null: bool = True
    case: Literal["lower", "upper"] | None = None
    unicode: Literal["NFC", "NFKC"] | None = "NFC"


class Step(SpecModel):
    """A user function: `pkg.module:function`, pandas DataFrame in and out."""

    udf: ImportPath


class Transform(SpecModel):
    """Rules applied to each record, in this order: rename, normalize_names, select/drop,
    strings, types, fill, filter, required, ranges, protect, steps, dedupe.

    A column that only `filter` reads survives select/drop until the filter has run, so a
    filter may test a column that is not loaded.
    """

    rename: dict[ColumnKey, Identifier] = Field(
        default_factory=dict, description="Source column name -> target column name."
    )
    normalize_names: bool = Field(
        default=True,
        description="Turn other source column names into snake_case identifiers.",
    )
    select: list[Identifier] | None = Field(default=None, description="Keep only these columns.")
    drop: list[Identifier] = Field(default_factory=list, description="Remove these columns.")
    strings: Strings | None = Field(default_factory=Strings)
    types: dict[Identifier, SpecType] = Field(
        default_factory=dict,
        description=(
            "Column -> type: 'date', 'decimal(12,2)'..., or a mapping that says how the source "
            "writes the values, e.g. {type: date, format: '%d.%m.%Y'} or {type: "
            "'decimal(12,2)', decimal: ',', thousands: '.'} (docs/formats.md). A value that "
            "does not parse sends its row to rejects."
        ),
    )
    fill: dict[Identifier, Scalar] = Field(
        default_factory=dict, description="Column -> value used where the column is null."
    )
    filter: Filter | None = Field(
        default=None,
        description=(
            "Keep only the rows that match; the others are skipped and counted as 'filtered' "
            "(they are not rejects). One condition {column, op, value}, or {all: [...]} / "
            "{any: [...]} of filters, nested. Tested after types and fill, on the names after "
            "rename; it may test a column that select/drop leaves out. Example: "
            "{all: [{column: amount, op: '>', value: 50}, {column: status, op: in, "
            "value: [paid, shipped]}]}."
        ),
    )
    required: list[Identifier] = Field(
        default_factory=list, description="Columns that must not be null."
    )
    ranges: dict[Identifier, Range] = Field(default_factory=dict)
    non_finite: Literal["null", "keep"] = Field(
        default="null",
        description=(
            "NaN, Infinity and -Infinity in float columns: 'null' (the default) reads them as "
            "null; 'keep' keeps them. Either way they never satisfy `required` or `ranges`."
        ),
    )
    protect: dict[Identifier, ProtectRule] = Field(
        default_factory=dict, description=PROTECT_DESCRIPTION
    )
    steps: list[Step] = Field(default_factory=list)
    dedupe: Dedupe | None = None
    max_rejects: int | float | None = Field(
        default=None,
        description=(
            "Fail the run when more rows are rejected: a count (10) or a ratio of rows read "
            "(0.05 or '5%'). Null: no limit."
        ),
    )

    @field_validator("max_rejects", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().endswith("%"):
            return float(value.strip()[:-1]) / 100
        return value

    @field_validator("max_rejects")
    @classmethod
    def _threshold(cls, value: int | float | None) -> int | float | None:
        if isinstance(value, float) and not 0 <= value < 1:
            raise ValueError("a ratio is between 0 and 1 (or '0%'..'99%'); a count is an integer")
        if isinstance(value, int) and value < 0:
            raise ValueError("a count of rejects cannot be negative")
        return value

    @model_validator(mode="after")
    def _protect(self) -> Transform:
        if problems := protect_problems(self):
            raise ValueError("; ".join(problems))
        return self


class Load(SpecModel):
    """Where rows land and how."""

    table: TableName = Field(description="Target table, `table` or `schema.table`.")
    mode: Literal["append", "replace", "upsert"] = Field(
        default="append",
        description=(
            "append: add rows; replace: swap the table's content atomically; "
            "upsert: insert new keys, update changed rows."
        ),
    )
    keys: list[Identifier] = Field(
        default_factory=list, description="Key columns (required for upsert)."
    )
    allow_empty_replace: bool = Field(
        default=False, description="Let an empty extract empty the table in replace mode."
    )

    @model_validator(mode="after")
    def _keys(self) -> Load:
        if self.mode == "upsert" and not self.keys:
            raise ValueError("mode 'upsert' needs keys: the columns that identify a row")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError("keys are listed twice")
        return self


class Incremental(SpecModel):
    """Read only what is new since the last committed run."""

    cursor: Identifier = Field(description="A column that grows: a timestamp or an integer.")
    lag: Duration = Field(
        default=timedelta(0), description="Re-read this far behind the watermark (late rows)."
    )
    initial: Scalar | None = Field(default=None, description="Lower bound for the first run.")
    param: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.\[\]-]{0,99}$")] | None = Field(
        default=None,
        description=(
            "REST sources: the query parameter that sends the lower bound to the API "
            "(e.g. updated_since), so only new records are fetched."
        ),
    )


class Contract(SpecModel):
    """What a load does when the table and the extract no longer have the same columns
    (dlt's `schema_contract`, dbt's `on_schema_change`; docs/contracts.md)."""

    new_columns: Literal["add", "ignore", "fail"] = Field(
        default="fail",
        description="A column the extract has and the table lacks: add it to the table "
        "(nullable, in the load's transaction), ignore it (not loaded), or fail the load.",
    )
    type_change: Literal["fail", "reject_rows"] = Field(
        default="fail",
        description="A column whose type the table cannot hold: fail the load, or cast its "
        "values to the table's type and send the rows whose value does not cast to the rejects.",
    )
    missing_columns: Literal["null", "fail"] = Field(
        default="null",
        description="A column the table has and the extract lacks: load it as NULL, or fail "
        "the load.",
    )


class Stream(SpecModel):
    """One source -> transform -> load flow."""

    name: PipelineName
    source: SourceSpec
    transform: Transform = Field(default_factory=Transform)
    load: Load
    incremental: Incremental | None = None
    contract: Contract = Field(default_factory=Contract)
    monitor: StreamMonitor | None = Field(
        default=None,
        description="Health thresholds of this stream, over the pipeline's `monitor`; off: "
        "no health check.",
    )
    batch_rows: int = Field(
        default=131_072, ge=1_000, le=10_000_000, description="Rows per in-flight batch."
    )

    @model_validator(mode="after")
    def _protected_keys(self) -> Stream:
        if problems := stream_problems(self):
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _incremental_mode(self) -> Stream:
        if self.incremental is None:
            return self
        if self.load.mode == "replace":
            raise ValueError("an incremental stream cannot replace the table: use append or upsert")
        if self.incremental.lag and self.load.mode != "upsert":
            raise ValueError("a lag re-reads rows: use mode 'upsert' so they are not duplicated")
        return self


class Pipeline(SpecModel):
    """A whole pipeline: one DAG."""

    pipeline: PipelineName = Field(description="The DAG id and file name.")
    description: str = Field(default="", max_length=2000)
    schedule: Schedule | None = Field(
        default=None,
        description=(
            "Cron ('0 6 * * *') or @hourly/@daily/...; {after: [other_pipeline.stream]} to run "
            "when another pipeline has loaded; null = manual."
        ),
    )
    target: ConnectionId | None = Field(
        default=None,
        description=(
            "Connection id of the target database (PostgreSQL, MySQL/MariaDB, DuckDB, SQLite); "
            "null = the project's embedded DuckDB file, .dagsmith/warehouse.duckdb."
        ),
    )
    retries: Retries = Field(default_factory=Retries)
    alerts: Alerts = Field(default_factory=Alerts)
    monitor: PipelineMonitors = Field(
        default_factory=PipelineMonitor,
        description="Health checks of every stream's runs (`dagsmith health`; "
        "docs/monitoring.md), and with task: true a health task at the end of the DAG.",
    )
    owner: Owner = "dagsmith"
    tags: list[DagTag] = Field(
        default_factory=list,
        max_length=20,
        description="Labels of the DAG in Airflow's UI (with 'dagsmith'), for filtering.",
    )
    access: dict[Role, Annotated[list[Permission], Field(min_length=1)]] = Field(
        default_factory=dict, description=ACCESS_DESCRIPTION
    )
    streams: list[Stream] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | AfterSchedule | None) -> str | AfterSchedule | None:
        if value is None or isinstance(value, AfterSchedule) or value in SCHEDULE_PRESETS:
            return value
        from croniter import croniter  # only for a cron schedule: 0.01 s of every process

        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise ValueError(
                f"{value!r} is not a schedule: use a 5-field cron ('0 6 * * *') or one of "
                + ", ".join(SCHEDULE_PRESETS)
            )
        return value

    @model_validator(mode="after")
    def _unique(self) -> Pipeline:
        names = [stream.name for stream in self.streams]
        tables = [stream.load.table for stream in self.streams]
        for label, values in (("stream name", names), ("load table", tables)):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"each {label} must be unique; repeated: {', '.join(dupes)}")
        return self

    @model_validator(mode="after")
    def _not_after_itself(self) -> Pipeline:
        own = [
            item
            for item in self.upstream
            if item.partition(".")[0] == self.pipeline and "://" not in item
        ]
        if own:
            raise ValueError(
                f"schedule.after names this pipeline's own output ({', '.join(own)}): each load "
                "would trigger the next run"
            )
        return self

    @property
    def upstream(self) -> list[str]:
        """The outputs the schedule runs after (`schedule.after`); empty for a time schedule."""
        return self.schedule.after if isinstance(self.schedule, AfterSchedule) else []

    def stream(self, name: str) -> Stream:
        """The stream called `name`; KeyError lists the known names."""
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"no stream {name!r}; streams: {', '.join(s.name for s in self.streams)}")
