"""The staged incidents, one record each: where it happens, how it is staged, what
`dagsmith health` fails, and what `dagsmith diagnose` must find, propose and ask of a person.

Patterns are regular expressions (case-insensitive): `change` must match the lines the
proposed diff adds, `action` the action, `evidence` one piece of the evidence.
"""

from __future__ import annotations

from tests.incidents import files, services
from tests.incidents.harness import Incident

FAILED_RUN = frozenset({"last_run"})

INCIDENTS = (
    Incident(
        "bad_values",
        "postgres",
        files.bad_values,
        health=frozenset({"rejects"}),
        finding="bad_values",
        change=r"null_values[\s\S]*N/A",
        evidence=r"N/A",
        after=files.loads_every_row,
    ),
    Incident(
        "new_column",
        "postgres",
        files.new_column,
        health=FAILED_RUN,
        finding="new_column",
        change=r"new_columns:\s*add|coupon",
        evidence=r"coupon",
        after=files.loads_the_coupons,
    ),
    Incident(
        "renamed_column",
        "mariadb",
        files.renamed_column,
        health=FAILED_RUN,
        finding="renamed_column",
        change=r"amount_eur",
        evidence=r"amount_eur",
        after=files.loads_the_amounts,
    ),
    Incident(
        "api_outage_then_recovery",
        "postgres",
        services.outage,
        health=frozenset(),  # the latest run succeeded again
        finding="source_unreachable",
        change=r"retry|attempts",
        change_optional=True,
        evidence=r"503",
        said=r"recover",
    ),
    Incident(
        "token_revoked",
        "postgres",
        services.token_revoked,
        health=FAILED_RUN,
        finding="auth_failed",
        action=r"AIRFLOW_CONN_API\b",
        evidence=r"401",
    ),
    Incident(
        "source_stalled",
        "sqlite",
        files.source_stalled,
        health=frozenset({"watermark"}),
        finding="source_stalled",
        change=r"watermark|cursor|filter|incremental",
        change_optional=True,
        action=r"\S",
    ),
    Incident(
        "volume_drop",
        "postgres",
        files.volume_drop,
        health=frozenset({"volume"}),
        finding="volume_drop",
        evidence=r"\b20\b",
    ),
    Incident(
        "volume_spike",
        "mariadb",
        files.volume_spike,
        health=frozenset({"volume"}),
        finding="volume_spike",
        evidence=r"\b1,?000\b",
    ),
    Incident(
        "slow_run",
        "postgres",
        services.slow_run,
        health=frozenset({"duration"}),
        finding="slow_run",
    ),
    Incident(
        "duplicate_key_explosion",
        "mariadb",
        files.duplicate_keys,
        health=FAILED_RUN,
        finding="duplicate_keys",
        change=r"dedupe[\s\S]*\bid\b",
        after=files.keeps_the_latest_version,
    ),
    Incident(
        "staging_disk_full",
        "postgres",
        services.staging_full,
        health=FAILED_RUN,
        finding="staging_full",
        action=r"TMPDIR|DAGSMITH_STAGING_URL",
        evidence=r"No space left on device|File too large",
        process=True,
    ),
    Incident(
        "run_killed",
        "postgres",
        services.run_killed,
        health=None,  # a killed run commits nothing and records no failure
        finding="run_killed",
        run_id="killed",
        action=r"dagsmith run",
        after=services.rerun_loses_nothing,
        process=True,
    ),
)
