# Local Airflow image for docker-compose.yaml: the official Apache Airflow image (the version
# MWAA runs, on MWAA's Python) plus Java 17 for local PySpark (the Glue scripts on the local
# target) and the local engines from requirements-local.txt.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.1-python3.12
FROM ${AIRFLOW_IMAGE}

USER root
# Spark 3.5 (Glue 5.0) runs on Java 17; the image's Debian ships it as openjdk-17.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
# Shared secrets (JWT signing key, Fernet key) are generated into a named volume mounted here;
# a new volume takes this ownership, so the airflow user can write it.
RUN mkdir -p /opt/airflow/secrets && chown airflow:root /opt/airflow/secrets && chmod 0770 /opt/airflow/secrets

USER airflow
COPY --chown=airflow:root requirements-local.txt /tmp/requirements-local.txt
# requirements-local.txt pins apache-airflow to the image's own version, so pip keeps it.
RUN pip install --no-cache-dir -r /tmp/requirements-local.txt
