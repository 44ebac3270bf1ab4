# The Airflow image of a dagsmith deployment: the official image plus dagsmith's run-time
# package (`connectors` and its drivers; no agent extra). AIRFLOW_VERSION must equal the
# apache-airflow pin in requirements.lock (tests/deploy checks it).
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION

# The wheel's build reads pyproject.toml and README.md, and packs agent/ and templates/.
COPY --chown=airflow:0 pyproject.toml README.md /opt/dagsmith/
COPY --chown=airflow:0 connectors /opt/dagsmith/connectors
COPY --chown=airflow:0 agent /opt/dagsmith/agent
COPY --chown=airflow:0 templates /opt/dagsmith/templates

# Naming Airflow at its image's version in the same command stops the resolver from
# upgrading or downgrading it to fit dagsmith's dependencies (Airflow's own advice).
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/dagsmith

# A named volume takes the owner of the folder it is mounted on: make it the airflow user.
RUN mkdir -p /opt/airflow/staging
