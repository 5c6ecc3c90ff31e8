"""Airflow DAG warehouse_maintenance, compiled from include/pipelines/warehouse_maintenance.yaml (its doc_md has the triage notes)."""

from dwh.compile_airflow import dag_for_file

dag = dag_for_file(__file__)
