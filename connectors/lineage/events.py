"""The OpenLineage run events of one stream run, built from its plan and its counters.

The job is `<pipeline>.<stream>` (the same under `dagsmith run` and in Airflow), in the
namespace `OPENLINEAGE_NAMESPACE` (default `dagsmith`); its run id is derived from the
run's id, so the START sent by each try of an Airflow stream task and the COMPLETE sent
by the try that loads belong to one run. Inputs are what the source reads (each kind names
its datasets), the output is the target table; facets: each side's schema, the rows read
and rejected per rule (input), the rows loaded (output), and the column lineage
(`columns`).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    data_quality_assertions_dataset,
    data_quality_metrics_input_dataset,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
)

from connectors import __version__
from connectors.lineage import columns as column_lineage
from connectors.lineage import datasets
from connectors.lineage.names import DatasetName, run_uuid
from connectors.masking import mask

if TYPE_CHECKING:
    from connectors.plan import StreamPlan
    from connectors.runtime import StreamStats

log = logging.getLogger("dagsmith")

PRODUCER = f"https://pypi.org/project/dagsmith/{__version__}"
NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"


def job_namespace() -> str:
    """The namespace of dagsmith's jobs: `OPENLINEAGE_NAMESPACE`, as Airflow's provider reads it."""
    return os.environ.get(NAMESPACE_ENV) or "dagsmith"


def inputs(plan: StreamPlan) -> tuple[DatasetName, ...]:
    """What the stream's source reads."""
    connection = datasets.source_connection(plan.stream, plan.project_dir)
    return datasets.source(plan.stream, plan.base_dir, connection)


def output(plan: StreamPlan) -> DatasetName:
    """The target table."""
    return datasets.table(plan.target.url, plan.stream.load.table)


def run_event(
    state: RunState,
    plan: StreamPlan,
    stats: StreamStats | None = None,
    error: BaseException | None = None,
) -> RunEvent:
    """The event of one transition of a stream run; `stats` (COMPLETE, FAIL) adds the
    schemas, counts and column lineage."""
    run = plan.run
    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=__version__, name="dagsmith", openlineageAdapterVersion=__version__
        ),
        "parent": parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_uuid(run.pipeline, run.run_id)),
            job=parent_run.Job(namespace=job_namespace(), name=run.pipeline),
        ),
    }
    start, end = plan.interval
    if start is not None:
        facets["nominalTime"] = nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=_iso(start), nominalEndTime=_iso(end) if end else None
        )
    if error is not None:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=mask(str(error))[:2000], programmingLanguage="python"
        )
    return RunEvent(
        eventType=state,
        eventTime=_iso(datetime.now(UTC)),
        run=Run(runId=run_uuid(run.pipeline, run.stream, run.run_id), facets=facets),
        job=_job(plan),
        inputs=[_input(name, plan, stats) for name in inputs(plan)],
        outputs=[_output(output(plan), plan, stats, inputs(plan))],
        producer=PRODUCER,
    )


def _job(plan: StreamPlan) -> Job:
    kind = job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="DAGSMITH", jobType="STREAM"
    )
    return Job(
        namespace=job_namespace(),
        name=f"{plan.run.pipeline}.{plan.run.stream}",
        facets={"jobType": kind},
    )


def _input(name: DatasetName, plan: StreamPlan, stats: StreamStats | None) -> InputDataset:
    if stats is None:
        return InputDataset(namespace=name.namespace, name=name.name)
    facets: dict[str, Any] = {}
    if source := stats.columns.get("source"):
        facets["schema"] = _schema(source)
    rules = [
        data_quality_assertions_dataset.Assertion(
            assertion=rule,
            success=count == 0,
            expected="0",
            actual=str(count),
            description=f"rows rejected by {rule} (into {plan.stream.load.table}__rejects)",
        )
        for rule, count in sorted(stats.by_rule.items())
    ]
    metrics = data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet
    assertions = data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet
    quality: dict[str, Any] = {
        "dataQualityMetrics": metrics(rowCount=stats.rows_read, columnMetrics={}),
        "dataQualityAssertions": assertions(assertions=rules),
    }
    return InputDataset(
        namespace=name.namespace, name=name.name, facets=facets, inputFacets=quality
    )


def _output(
    name: DatasetName,
    plan: StreamPlan,
    stats: StreamStats | None,
    sources: tuple[DatasetName, ...],
) -> OutputDataset:
    if stats is None:
        return OutputDataset(namespace=name.namespace, name=name.name)
    facets: dict[str, Any] = {}
    target = stats.columns.get("target")
    if target:
        declared = {column: str(kind) for column, kind in plan.stream.transform.types.items()}
        facets["schema"] = _schema([(col, declared.get(col, kind)) for col, kind in target])
        derived = column_lineage.derive(
            plan.stream, stats.columns.get("source"), [col for col, _ in target]
        )
        facets["columnLineage"] = _column_facet(derived, sources)
    loaded = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=stats.rows_loaded
    )
    return OutputDataset(
        namespace=name.namespace,
        name=name.name,
        facets=facets,
        outputFacets={"outputStatistics": loaded},
    )


def _schema(columns: list[tuple[str, str]]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name=name, type=kind, ordinal_position=i)
            for i, (name, kind) in enumerate(columns, start=1)
        ]
    )


def _column_facet(
    derived: column_lineage.ColumnLineage, sources: tuple[DatasetName, ...]
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Each column's source field, in every input dataset (a glob or a query's tables)."""

    def fields(column: str, steps: tuple[column_lineage.Step, ...]) -> list[Any]:
        return [
            column_lineage_dataset.InputField(
                namespace=source.namespace,
                name=source.name,
                field=column,
                transformations=[
                    column_lineage_dataset.Transformation(
                        type=step.type,
                        subtype=step.subtype,
                        description=step.description,
                        masking=step.masking,
                    )
                    for step in steps
                ],
            )
            for source in sources
        ]

    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields={
            column: column_lineage_dataset.Fields(inputFields=fields(origin.source, origin.steps))
            for column, origin in derived.columns.items()
        },
        dataset=[field for column, step in derived.rows for field in fields(column, (step,))],
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
