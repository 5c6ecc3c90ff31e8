"""Airflow DAG ecommerce_dwh, compiled from include/pipelines/ecommerce_dwh.yaml (its doc_md has the triage notes)."""

from dwh.compile_airflow import dag_for_file

dag = dag_for_file(__file__)
