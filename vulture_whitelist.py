"""Names vulture takes for dead code that are used where it cannot see: called by a
framework or a protocol, or named in a string path. Add a name here only for that reason
(delete code that is really unused). `make lint` runs vulture with this file among its
paths; vulture matches names only, so `_.name` stands for an attribute of any object."""

from typing import Any

_: Any = None

# LangChain's BaseChatModel calls these (agent/planner/chat.py), with these arguments.
_._llm_type
_.bind_tools
_._generate
_.tool_choice
_.run_manager

# LangChain's agent loop calls a middleware's hooks, with these arguments (agent/audit/).
_.after_model
_.wrap_tool_call
_.runtime

# LangChain's BaseTool reads them from each tool (agent/tools.py).
_.handle_tool_error
_.handle_validation_error

# The generated DAG's callbacks call it (templates/dag.py.j2).
_.notify  # connectors/alerts.py

# pysqlite's connection attribute, set to leave BEGIN to SQLAlchemy (dialects/sqlite.py).
_.isolation_level

# logging.Formatter prints the masked traceback from the record (connectors/masking.py).
_.exc_text

# io.RawIOBase's protocol: BufferedReader asks whether the stream is readable.
_.readable  # connectors/sources/csv.py, connectors/sources/files.py

# The context manager protocol's arguments (connectors/sources/http/records.py).
_.tb

# typer: an eager option whose callback acts, so the command never reads it
# (agent/cli/common.py).
_.version

# socketserver reads it: handler threads do not keep a test from ending.
_.daemon_threads  # tests/sources_rest/conftest.py

# Named by a dialect's `rights_path` (connectors/dialects), imported when needed.
_.postgres_missing
_.mariadb_missing

# Named in specs as `tests.udfs:<name>`, and in Airflow's config as a dotted path.
_.add_total
_.explode
_.not_a_frame
_.NOT_CALLABLE
_.crash_midway
_.from_env  # tests/deploy/hostname.py

# Named by `module:name` paths in source kinds (connectors/kinds/, the example plugin's
# entry point in tests/plugins/), imported when first used.
_.csv_spec
_.json_spec
_.xml_spec
_.excel_spec
_.LINES

# OpenTelemetry's SDK asks its id generator whether a root's trace id is random
# (connectors/traces/export.py).
_.is_trace_id_random
