"""Lineage: what a stream run reads and writes, told to OpenLineage and to Airflow.

`names` says how a dataset is named (OpenLineage's naming conventions: a namespace for the
data source, a name within it, and the URI both make, which Airflow's Assets use too);
`columns` derives each loaded column's source column from the spec; `events` builds the
run events of one stream from its plan and counters; `report` sends them (START, COMPLETE,
FAIL) through the openlineage client, in the background, never failing or holding up a load.
This package's `__init__` imports nothing: dialects and kinds import `names` from it.
"""
