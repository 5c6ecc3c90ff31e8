"""Why a load node is the project's COPY batch and not the provider's S3ToRedshiftOperator.

The reasons (README "Loads on the aws target") are properties of the operator in the pinned
provider; these tests capture the statements it sends through the Data API, so that a provider
that gains what the load needs fails here and the choice is made again.
"""

from __future__ import annotations

from moto import mock_aws

from dwh.loads import SHARED_TABLES, redshift_load_statements

DATA_API = {"cluster_identifier": "dwh", "database": "dwh", "db_user": "loader"}


def sent_by(method: str, monkeypatch, **kwargs) -> list[str]:
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook
    from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator

    sent: list[str] = []

    def capture(self, sql, **kwargs):
        sent.extend([sql] if isinstance(sql, str) else sql)

    monkeypatch.setattr(RedshiftDataHook, "execute_query", capture)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        S3ToRedshiftOperator(
            task_id="load_orders",
            schema="staging",
            table="orders",
            s3_bucket="processed",
            s3_key="orders/ingest_date=2024-03-01/",
            copy_options=["FORMAT AS PARQUET"],
            method=method,
            redshift_data_api_kwargs=DATA_API,
            **kwargs,
        ).execute({})
    return [" ".join(s.split()) for s in sent]


def test_the_operator_batch_cannot_hold_the_reconciliation(monkeypatch):
    """Our load is one transaction: lock, replace staging, Glue's metrics, the load_log row. The
    operator's batch is fixed: the lock and the ops writes would be another task's transaction,
    so a failure between the two leaves a staged batch that ops.load_log does not account for."""
    ours = " ".join(redshift_load_statements("orders", "staging.orders"))
    theirs = " ".join(sent_by("REPLACE", monkeypatch, upsert_keys=None)).lower()
    assert "copy staging.orders" in theirs
    for needed in (f"lock {', '.join(sorted(SHARED_TABLES))}", "ops.glue_metrics", "ops.load_log"):
        assert needed in ours
        assert needed not in theirs


def test_the_operator_upsert_keeps_rows_of_earlier_batches(monkeypatch):
    """UPSERT deletes only the keys present in the new files: a row quarantined on a re-run, or
    an earlier day's row, stays in staging, which must hold exactly the batch being loaded."""
    theirs = sent_by("UPSERT", monkeypatch, upsert_keys=["order_id"])
    assert "DELETE FROM staging.orders USING #orders WHERE orders.order_id = #orders.order_id;" in (
        theirs
    )
    assert not any(s.strip(";").lower() in ("delete from staging.orders",) for s in theirs)


def test_without_a_role_connection_the_copy_carries_access_keys(monkeypatch):
    """With no AWS connection holding ``role_arn``, the operator writes the caller's access keys
    into the COPY text, which Redshift keeps in its query history; our COPY names the copy role."""
    (copy,) = [s for s in sent_by("APPEND", monkeypatch) if s.upper().startswith("COPY")]
    assert "aws_access_key_id=" in copy
    ours = next(s for s in redshift_load_statements("orders", "staging.orders") if "copy" in s)
    assert "iam_role '{{ iam_role_arn }}'" in ours
