"""The pipeline spec models and their YAML form."""

from __future__ import annotations

from connectors.spec.filter import AllOf, AnyOf, Condition, Filter
from connectors.spec.io import dump_spec, load_spec, parse_spec, spec_hash
from connectors.spec.models import (
    AfterSchedule,
    Alerts,
    Contract,
    Dedupe,
    Incremental,
    Load,
    Pipeline,
    Range,
    Retries,
    Step,
    Stream,
    Strings,
    Transform,
)
from connectors.spec.sources import (
    CsvSource,
    ExcelSource,
    FileSource,
    JsonlSource,
    JsonSource,
    ParquetSource,
    SourceSpec,
    XmlSource,
)

__all__ = [
    "AfterSchedule",
    "Alerts",
    "AllOf",
    "AnyOf",
    "Condition",
    "Contract",
    "CsvSource",
    "Dedupe",
    "ExcelSource",
    "FileSource",
    "Filter",
    "Incremental",
    "JsonSource",
    "JsonlSource",
    "Load",
    "ParquetSource",
    "Pipeline",
    "Range",
    "Retries",
    "SourceSpec",
    "Step",
    "Stream",
    "Strings",
    "Transform",
    "XmlSource",
    "dump_spec",
    "load_spec",
    "parse_spec",
    "spec_hash",
]
