#!/usr/bin/env bash
# MWAA startup script: runs on every scheduler, worker, DAG processor and API server before
# Airflow starts. The deploy command (dwh deploy) syncs the repository's include/ folder to
# the environment bucket's dags/include/, so on MWAA it sits beside the DAG files in the DAGs
# folder; this tells the dwh package where it is. Paths derive from $AIRFLOW_HOME, which MWAA
# sets, so nothing here names a container path.
set -euo pipefail

export DWH_INCLUDE_DIR="${AIRFLOW_HOME}/dags/include"
# The Olist contract (include/glue/olist_contract.py) is imported by the warehouse loads.
export PYTHONPATH="${DWH_INCLUDE_DIR}/glue${PYTHONPATH:+:${PYTHONPATH}}"
