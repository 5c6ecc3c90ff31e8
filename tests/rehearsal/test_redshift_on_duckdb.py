"""Redshift rehearsed on DuckDB behind moto: the Data API, COPY's rules and the SQL driver.

Everything goes through real clients: boto3's ``redshift-data`` client, the provider's
RedshiftDataOperator and RedshiftSQLHook (whose ``redshift_connector.connect`` runs for real up to
the socket), common-sql's SQLCheckOperator. moto serves the AWS side in-process.
"""

from __future__ import annotations

import json
import types

import boto3
import duckdb
import pytest
from moto import mock_aws

from dwh.loads import redshift_load_statements
from dwh.sql import render, split_statements
from dwh_tools.rehearsal.redshift import DuckRedshift

REGION = "eu-west-1"
BUCKET = "dwh-rehearsal-processed"
ROLE = "arn:aws:iam::123456789012:role/dwh-copy"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs"
CLUSTER = "dwh-rehearsal"
HOST = f"{CLUSTER}.abc123.{REGION}.redshift.amazonaws.com"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        # SECRET, by its partial ARN: a Data API call logs in as the user the secret names.
        boto3.client("secretsmanager").create_secret(
            Name="rs", SecretString=json.dumps({"username": "dwh_etl", "password": "x"})
        )
        yield


@pytest.fixture
def redshift(aws, monkeypatch, tmp_path):
    rs = DuckRedshift(tmp_path / "redshift.duckdb")
    rs.install(monkeypatch)
    yield rs
    rs.close()


@pytest.fixture
def data():
    return boto3.client("redshift-data")


def submit(data, sql) -> str:
    kw = {"ClusterIdentifier": CLUSTER, "Database": "dev", "DbUser": "awsuser"}
    if isinstance(sql, list):
        return data.batch_execute_statement(Sqls=sql, **kw)["Id"]
    return data.execute_statement(Sql=sql, **kw)["Id"]


def wait(data, sid: str) -> dict:
    for _ in range(10):
        desc = data.describe_statement(Id=sid)
        if desc["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return desc
    raise AssertionError(f"{sid} never finished")


def run(data, sql) -> dict:
    return wait(data, submit(data, sql))


def put_parquet(tmp_path, key: str, select: str) -> None:
    local = tmp_path / "upload.parquet"
    duckdb.connect().execute(f"copy ({select}) to '{local}' (format parquet)")
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=local.read_bytes())


def copy_sql(table: str, prefix: str, fmt: str = "parquet") -> str:
    return f"copy {table} from 's3://{BUCKET}/{prefix}' iam_role '{ROLE}' format as {fmt}"


# -- the Data API -------------------------------------------------------------------------------


def test_describe_reports_started_then_finished(redshift, data):
    sid = submit(data, "create table public_t (a integer)")
    first = data.describe_statement(Id=sid)
    assert first["Status"] == "STARTED"
    second = data.describe_statement(Id=sid)
    assert second["Status"] == "FINISHED" and second["HasResultSet"] is False
    assert "SubStatements" not in second


def test_a_batch_is_one_transaction(redshift, data):
    run(data, "create table t (a integer not null)")
    desc = run(data, ["insert into t values (1)", "insert into t values (null)"])
    assert desc["Status"] == "FAILED"
    assert "statement 2 of 2" in desc["Error"] and "insert into t values (null)" in desc["Error"]
    assert "NOT NULL" in desc["Error"]  # DuckDB's own message
    assert [s["Status"] for s in desc["SubStatements"]] == ["FINISHED", "FAILED"]
    assert [s["Id"] for s in desc["SubStatements"]] == [f"{desc['Id']}:1", f"{desc['Id']}:2"]
    # The first insert was rolled back with the failing one.
    count = run(data, "select count(*) as n from t")
    rows = data.get_statement_result(Id=count["Id"])["Records"]
    assert rows == [[{"longValue": 0}]]


def test_a_failed_statement_aborts_the_rest_of_its_batch(redshift, data):
    desc = run(data, ["create table t (a integer)", "select * from nowhere", "drop table t"])
    assert [s["Status"] for s in desc["SubStatements"]] == ["FINISHED", "FAILED", "ABORTED"]
    assert "nowhere" in desc["Error"]
    assert run(data, "select * from t")["Status"] == "FAILED"  # the create went too


def test_get_statement_result_returns_the_real_rows(redshift, data):
    sqls = [
        "create table r (i integer, b bigint, d decimal(12, 2), f double precision, "
        "s varchar(10), ok boolean, day date)",
        "insert into r values (1, 10000000000, 12.50, 0.25, 'x', true, '2024-03-01'), "
        "(2, null, null, null, null, false, null)",
        "select * from r order by i",
    ]
    desc = run(data, sqls)
    assert desc["Status"] == "FINISHED"
    subs = desc["SubStatements"]
    assert [s["HasResultSet"] for s in subs] == [False, False, True]
    assert subs[1]["ResultRows"] == 2
    result = data.get_statement_result(Id=subs[2]["Id"])
    assert result["TotalNumRows"] == 2
    names = [(c["name"], c["typeName"]) for c in result["ColumnMetadata"]]
    assert names == [
        ("i", "int4"),
        ("b", "int8"),
        ("d", "numeric"),
        ("f", "float8"),
        ("s", "varchar"),
        ("ok", "bool"),
        ("day", "date"),
    ]
    assert result["Records"][0] == [
        {"longValue": 1},
        {"longValue": 10000000000},
        {"stringValue": "12.50"},
        {"doubleValue": 0.25},
        {"stringValue": "x"},
        {"booleanValue": True},
        {"stringValue": "2024-03-01"},
    ]
    assert result["Records"][1][1:] == [{"isNull": True}] * 4 + [
        {"booleanValue": False},
        {"isNull": True},
    ]
    with pytest.raises(data.exceptions.ValidationException):
        data.get_statement_result(Id=desc["Id"])  # a batch's results are its sub-statements'


def test_vacuum_refuses_a_batch_but_runs_alone(redshift, data):
    run(data, "create table v (a integer)")
    desc = run(data, ["insert into v values (1)", "vacuum v"])
    assert desc["Status"] == "FAILED" and "transaction block" in desc["Error"]
    assert run(data, "vacuum v")["Status"] == "FINISHED"


# -- COPY ---------------------------------------------------------------------------------------


def test_copy_parquet_matches_columns_by_position(redshift, data, tmp_path):
    run(data, "create table c (id integer, name varchar(8), at timestamp, amount decimal(12, 2))")
    # The file's column names differ from the table's: Redshift goes by position.
    put_parquet(
        tmp_path,
        "c/ingest_date=2024-03-01/part-0.parquet",
        "select 7::integer as x, 'seven' as y, timestamp '2024-03-01 10:00:00' as z, "
        "12.34::decimal(10, 2) as w",
    )
    # Spark's marker file beside the data is not read.
    boto3.client("s3").put_object(Bucket=BUCKET, Key="c/ingest_date=2024-03-01/_SUCCESS", Body=b"")
    desc = run(data, copy_sql("c", "c/ingest_date=2024-03-01/"))
    assert desc["Status"] == "FINISHED", desc.get("Error")
    assert desc["ResultRows"] == 1
    sid = run(data, "select id, name, at, amount from c")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [
        [
            {"longValue": 7},
            {"stringValue": "seven"},
            {"stringValue": "2024-03-01 10:00:00"},
            {"stringValue": "12.34"},
        ]
    ]


@pytest.mark.parametrize(
    ("column", "value", "parquet"),
    [
        ("integer", "1::bigint", "int64"),
        ("integer", "'1'", "byte_array"),
        ("decimal(12, 2)", "'1.00'", "byte_array"),
        ("decimal(12, 2)", "1.000::decimal(12, 3)", "int64"),
        ("timestamp", "'2024-01-01'", "byte_array"),
    ],
)
def test_copy_parquet_refuses_an_incompatible_type(
    redshift, data, tmp_path, column, value, parquet
):
    run(data, f"create table bad (v {column})")
    put_parquet(tmp_path, "bad/part-0.parquet", f"select {value} as v")
    desc = run(data, copy_sql("bad", "bad/"))
    assert desc["Status"] == "FAILED"
    assert "Spectrum Scan Error" in desc["Error"]
    assert "incompatible Parquet schema for column" in desc["Error"]
    assert f"optional {parquet} v" in desc["Error"]


def test_copy_parquet_accepts_int32_into_bigint(redshift, data, tmp_path):
    run(data, "create table wide (v bigint)")
    put_parquet(tmp_path, "wide/part-0.parquet", "select 5::integer as v")
    assert run(data, copy_sql("wide", "wide/"))["Status"] == "FINISHED"


def test_copy_parquet_refuses_a_different_column_count(redshift, data, tmp_path):
    run(data, "create table two (a integer, b integer)")
    put_parquet(tmp_path, "two/part-0.parquet", "select 1::integer as a")
    desc = run(data, copy_sql("two", "two/"))
    assert desc["Status"] == "FAILED"
    assert "Table columns: 2, Data columns: 1" in desc["Error"]


def test_copy_fails_on_a_string_longer_than_its_varchar(redshift, data, tmp_path):
    run(data, "create table short (code varchar(4))")
    put_parquet(tmp_path, "short/part-0.parquet", "select 'abcde' as code")
    desc = run(data, ["delete from short", copy_sql("short", "short/")])
    assert desc["Status"] == "FAILED"
    assert "value too long for type character varying(4)" in desc["Error"]
    assert desc["SubStatements"][0]["Status"] == "FINISHED"


def test_copy_from_an_empty_prefix_fails(redshift, data):
    run(data, "create table e (a integer)")
    desc = run(data, copy_sql("e", "e/ingest_date=2024-03-01/"))
    assert desc["Status"] == "FAILED"
    assert "The specified S3 prefix 'e/ingest_date=2024-03-01/' does not exist" in desc["Error"]


def test_copy_json_auto_matches_keys_to_columns(redshift, data):
    run(data, "create table m (entity varchar(64), rows_in bigint, ingest_date date, note varchar)")
    record = {"rows_in": 3, "entity": "orders", "ingest_date": "2024-03-01", "extra": "ignored"}
    key = "_metrics/orders/ingest_date=2024-03-01/metrics.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record).encode())
    desc = run(data, copy_sql("m", key, "json 'auto'"))
    assert desc["Status"] == "FINISHED", desc.get("Error")
    sid = run(data, "select entity, rows_in, ingest_date, note from m")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [
        [
            {"stringValue": "orders"},
            {"longValue": 3},
            {"stringValue": "2024-03-01"},
            {"isNull": True},
        ]
    ]


def test_the_pipeline_load_of_orders_runs_and_matches_the_local_warehouse(redshift, data, tmp_path):
    """The rendered load statements of dwh.loads, as MWAA sends them, against the warehouse
    schema; the staging checksum equals the local warehouse's after the same load."""
    from dwh_tools.local_target.warehouse import Warehouse

    redshift.create_schema()
    ds = "2024-03-01"
    select = (
        "select 'o1' as order_id, 'c1' as customer_id, 'delivered' as order_status, "
        "timestamp '2024-03-01 08:00:00' as order_purchase_timestamp, "
        "timestamp '2024-03-01 09:00:00' as order_approved_at, "
        "null::timestamp as order_delivered_carrier_date, "
        "null::timestamp as order_delivered_customer_date, "
        "timestamp '2024-03-09 00:00:00' as order_estimated_delivery_date, "
        "'raw/orders/2024-03-01/orders.csv' as _source_file, 2::bigint as _source_line, "
        f"date '{ds}' as ingest_date"
    )
    put_parquet(tmp_path, f"orders/ingest_date={ds}/part-00000.snappy.parquet", select)
    metrics = {"entity": "orders", "ingest_date": ds, "run_id": "glue-1", "rows_in": 1}
    metrics |= {"rows_out": 1, "rows_quarantined": 0, "rejected_by_rule": "{}"}
    key = f"_metrics/orders/ingest_date={ds}/metrics.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(metrics).encode())
    context = {"ds": ds, "run_id": "manual__1", "processed_uri": f"s3://{BUCKET}"}
    context["iam_role_arn"] = ROLE
    sqls = [render(t, context) for t in redshift_load_statements("orders", "staging.orders")]
    desc = run(data, sqls)
    assert desc["Status"] == "FINISHED", desc.get("Error")
    sid = run(data, "select rows_in, rows_loaded from ops.load_log")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [[{"longValue": 1}, {"longValue": 1}]]

    processed = tmp_path / "processed"
    (processed / "orders" / f"ingest_date={ds}").mkdir(parents=True)
    duckdb.connect().execute(
        f"copy ({select}) to '{processed}/orders/ingest_date={ds}/part-0.parquet' (format parquet)"
    )
    (processed / "_metrics" / "orders" / f"ingest_date={ds}").mkdir(parents=True)
    (processed / "_metrics" / "orders" / f"ingest_date={ds}" / "metrics.json").write_text(
        json.dumps(metrics)
    )
    local = Warehouse(tmp_path / "local.duckdb")
    try:
        local.ensure_schema()
        local.load_entity("orders", "staging.orders", processed, ds, "manual__1")
        assert set(local.table_checksums()) == set(redshift.checksums())
        assert local.table_checksums()["staging.orders"] == redshift.checksums()["staging.orders"]
    finally:
        local.close()


def test_the_schema_made_through_the_api_equals_create_schema(redshift, data, tmp_path):
    from dwh import config
    from dwh.sql import SAMPLE_CONTEXT, split_statements

    sqls = []
    for path in sorted((config.SQL_DIR / "ddl").glob("*.sql")):
        sqls += split_statements(render(path.read_text(), SAMPLE_CONTEXT | {"iam_role_arn": ROLE}))
    assert run(data, sqls)["Status"] == "FINISHED"
    other = DuckRedshift(tmp_path / "other.duckdb")
    try:
        other.create_schema()
        assert other.checksums() == redshift.checksums() != {}
    finally:
        other.close()


# -- the provider's operator and hook -----------------------------------------------------------


def instant_polls(monkeypatch, nap=lambda seconds: None) -> None:
    """The Data API hook's poll does not sleep. Only the hook's module sees the change:
    ``time.sleep`` itself is the whole process's, and other threads of the run use it."""
    from airflow.providers.amazon.aws.hooks import redshift_data

    monkeypatch.setattr(redshift_data, "time", types.SimpleNamespace(sleep=nap))


def test_the_provider_operator_runs_a_list_of_statements(redshift, data, monkeypatch):
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator

    naps = []

    def nap(seconds):  # its poll waits 1 s; a statement that never ends fails the test
        naps.append(seconds)
        assert len(naps) < 30, "the statement never left STARTED"

    instant_polls(monkeypatch, nap)
    common = {"cluster_identifier": CLUSTER, "database": "dev", "db_user": "awsuser"}
    # boto3's own credentials (moto's); durable=False: durable task state needs a task
    # instance's task_state_store, which a bare execute() has not.
    common |= {"poll_interval": 1, "aws_conn_id": None, "durable": False}
    sql = ["create table p (a integer)", "insert into p values (1), (2)", "analyze p"]
    ids = RedshiftDataOperator(task_id="load", sql=sql, **common).execute({})
    assert naps == [1]  # polled once while STARTED, then FINISHED
    assert [i.rsplit(":", 1)[1] for i in ids] == ["1", "2", "3"]
    results = RedshiftDataOperator(
        task_id="read", sql=["select sum(a) from p", "select 1"], return_sql_result=True, **common
    ).execute({})
    assert [r["Records"] for r in results] == [[[{"longValue": 3}]], [[{"longValue": 1}]]]


def test_the_provider_operator_fails_with_the_statement_error(redshift, monkeypatch):
    from airflow.providers.amazon.aws.hooks import redshift_data
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator

    instant_polls(monkeypatch)
    load = RedshiftDataOperator(
        task_id="load",
        cluster_identifier=CLUSTER,
        database="dev",
        sql=["create table q (a integer)", "insert into q values ('x')"],
        poll_interval=1,
        aws_conn_id=None,
        durable=False,
    )
    with pytest.raises(redshift_data.RedshiftDataQueryFailedError, match="statement 2 of 2"):
        load.execute({})


def _connection(monkeypatch, conn_id: str, extra: dict, **fields) -> None:
    conn = {"conn_type": "redshift", "host": HOST, "port": 5439, "schema": "dev"}
    conn |= {"login": "awsuser", "password": "secret", "extra": extra} | fields
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_the_sql_hook_reaches_the_same_database(redshift, data, monkeypatch):
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    _connection(monkeypatch, "rs_ok", {"region": REGION})
    run(data, "create table h (a integer)")
    hook = RedshiftSQLHook(redshift_conn_id="rs_ok")
    hook.run(["insert into h values (%s)", "insert into h values (2)"], parameters=(1,))
    assert hook.get_first("select count(*), sum(a) from h") == (2, 3)
    sid = run(data, "select count(*) from h")["Id"]  # committed, seen through the Data API
    assert data.get_statement_result(Id=sid)["Records"] == [[{"longValue": 2}]]
    assert redshift.connections[-1]["host"] == HOST


def test_the_sql_hook_fails_like_the_driver_on_a_wrong_extra(redshift, monkeypatch):
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    _connection(monkeypatch, "rs_bad", {"region_name": REGION})
    with pytest.raises(TypeError, match="unexpected keyword argument 'region_name'"):
        RedshiftSQLHook(redshift_conn_id="rs_bad").get_first("select 1")
    assert redshift.connections == []


def test_the_sql_hook_with_iam_gets_its_credentials_from_moto(redshift, monkeypatch):
    import redshift_connector
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    boto3.client("redshift").create_cluster(
        ClusterIdentifier=CLUSTER,
        NodeType="ra3.xlplus",
        MasterUsername="awsuser",
        MasterUserPassword="Passw0rd!x",
        DBName="dev",
    )
    iam = {"iam": True, "cluster_identifier": CLUSTER, "region": REGION}
    _connection(monkeypatch, "rs_iam", iam | {"db_user": "awsuser"}, password=None)
    assert RedshiftSQLHook(redshift_conn_id="rs_iam").get_first("select 1") == (1,)
    assert redshift.connections[-1]["user"] == "IAM:awsuser"  # moto's GetClusterCredentials
    # Without db_user the driver refuses before it would open a socket.
    _connection(monkeypatch, "rs_iam_nouser", iam, password=None)
    with pytest.raises(redshift_connector.InterfaceError, match="db_user must be specified"):
        RedshiftSQLHook(redshift_conn_id="rs_iam_nouser").get_first("select 1")


def test_the_quality_gate_operator_reads_through_the_hook(redshift, data, monkeypatch):
    from airflow.providers.common.sql.operators.sql import SQLCheckOperator

    _connection(monkeypatch, "redshift_default", {"region": REGION})
    run(data, ["create table g (failed integer)", "insert into g values (1)"])
    gate = SQLCheckOperator(
        task_id="gate", conn_id="redshift_default", sql="select count(*) > 0 from g"
    )
    gate.execute({})
    gate_failing = SQLCheckOperator(
        task_id="gate_failing", conn_id="redshift_default", sql="select 0 from g"
    )
    with pytest.raises(Exception, match="Test failed"):
        gate_failing.execute({})


def test_the_driver_with_group_federation_uses_the_iam_v2_call_moto_lacks(redshift, monkeypatch):
    """redshift_connector asks GetClusterCredentialsWithIAM when group_federation is on; moto
    5.2.5 has no such call and the rehearsal adds it."""
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    boto3.client("redshift").create_cluster(
        ClusterIdentifier=CLUSTER,
        NodeType="ra3.xlplus",
        MasterUsername="awsuser",
        MasterUserPassword="Passw0rd!x",
        DBName="dev",
    )
    extra = {"iam": True, "cluster_identifier": CLUSTER, "region": REGION}
    _connection(monkeypatch, "rs_v2", extra | {"group_federation": True}, password=None)
    assert RedshiftSQLHook(redshift_conn_id="rs_v2").get_first("select 3") == (3,)
    assert redshift.connections[-1]["user"] == "IAMR:iam-user"


def test_the_sql_hook_on_serverless_gets_credentials_moto_has_not(redshift, monkeypatch):
    """moto has no Redshift Serverless; the rehearsal answers GetCredentials for the workgroups
    it was told exist, and refuses others as AWS would."""
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    redshift.workgroups.add("dwh")
    host = f"dwh.123456789012.{REGION}.redshift-serverless.amazonaws.com"
    extra = {"iam": True, "is_serverless": True, "region": REGION}
    _connection(monkeypatch, "rs_sl", extra | {"serverless_work_group": "dwh"}, host=host)
    assert RedshiftSQLHook(redshift_conn_id="rs_sl").get_first("select 4") == (4,)
    assert redshift.connections[-1]["user"] == "IAM:serverless-user"
    _connection(monkeypatch, "rs_sl_bad", extra | {"serverless_work_group": "nope"}, host=host)
    with pytest.raises(Exception, match="Workgroup nope not found"):
        RedshiftSQLHook(redshift_conn_id="rs_sl_bad").get_first("select 4")


def test_a_rehearsed_transient_failure_fails_one_batch_once(redshift, data):
    """abort_once: the next batch with a matching statement ends FAILED with Redshift's
    serializable isolation error and changes nothing; the same batch submitted again runs."""
    run(data, "create table t1023 (a integer)")
    redshift.abort_once(r"^insert into t1023")
    batch = ["insert into t1023 values (0)", "insert into t1023 values (1)"]
    first = run(data, ["select 1", *batch])
    assert first["Status"] == "FAILED" and "1023" in first["Error"]
    assert "statement 2 of 3" in first["Error"]
    assert run(data, batch)["Status"] == "FINISHED"
    sid = run(data, "select count(*) from t1023")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [[{"longValue": 2}]]
    assert redshift.aborted == ["insert into t1023 values (0)"]


def test_an_insert_longer_than_its_varchar_fails_and_rolls_back(redshift, data):
    run(
        data, ["create table n (code varchar(3), note char(2))", "insert into n values ('ok', 'x')"]
    )
    desc = run(data, ["insert into n values ('é12', 'y')", "update n set note = 'abc'"])
    assert desc["Status"] == "FAILED"
    assert "statement 1 of 2" in desc["Error"]  # 'é12' is 4 bytes
    assert "value too long for type character varying(3)" in desc["Error"]
    desc = run(data, "update n set note = 'abc'")
    assert "value too long for type character(2)" in desc["Error"]
    sid = run(data, "select code, note from n")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [
        [{"stringValue": "ok"}, {"stringValue": "x"}]
    ]


def test_named_parameters_reach_the_statement(redshift, data):
    run(data, "create table k (d date, n integer)")
    kw = {"ClusterIdentifier": CLUSTER, "Database": "dev"}
    params = [{"name": "ds", "value": "2024-03-01"}, {"name": "n", "value": "5"}]
    sid = data.execute_statement(
        Sql="insert into k values (:ds, :n::integer)", Parameters=params, **kw
    )["Id"]
    assert wait(data, sid)["Status"] == "FINISHED"
    sid = run(data, "select d, n from k")["Id"]
    assert data.get_statement_result(Id=sid)["Records"] == [
        [{"stringValue": "2024-03-01"}, {"longValue": 5}]
    ]


def test_the_project_operator_creates_the_warehouse_as_one_batch(redshift, monkeypatch):
    """dwh's own RedshiftSqlOperator (the MWAA runtime): the DDL files of the
    create_warehouse_schema node go as one BatchExecuteStatement; a lone VACUUM goes alone."""
    from dwh import config
    from dwh.operators.aws import RedshiftSqlOperator
    from dwh.sql import SAMPLE_CONTEXT

    instant_polls(monkeypatch)
    common = {"cluster_identifier": CLUSTER, "database": "dev", "aws_conn_id": None}
    common |= {"secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs"}
    common |= {"poll_interval": 1, "durable": False}
    context = SAMPLE_CONTEXT | {"iam_role_arn": ROLE}
    files = [render(p.read_text(), context) for p in sorted((config.SQL_DIR / "ddl").glob("*.sql"))]
    ids = RedshiftSqlOperator(task_id="create_warehouse_schema", sql=files, **common).execute({})
    assert len(ids) > len(files) and all(":" in i for i in ids)  # one batch, many statements
    assert "staging.orders" in redshift.checksums()
    (vacuum,) = RedshiftSqlOperator(
        task_id="vacuum", sql=["vacuum staging.orders"], **common
    ).execute({})
    assert ":" not in vacuum  # ExecuteStatement: VACUUM refuses a transaction block


@pytest.mark.parametrize(
    ("api_target", "variables", "reaches"),
    [
        ("cluster", {"dwh_redshift_cluster_id": CLUSTER}, {"ClusterIdentifier": CLUSTER}),
        ("workgroup", {"dwh_redshift_workgroup": "dwh"}, {"WorkgroupName": "dwh"}),
    ],
)
def test_the_aws_dag_sends_its_sql_where_the_pipeline_says(
    redshift, monkeypatch, api_target, variables, reaches
):
    """A pipeline's redshift_api_target (cluster or Serverless workgroup; Terraform writes only
    that one's Variable) decides what the aws DAG's Redshift tasks address."""
    from airflow.sdk.execution_time.context import VariableAccessor

    from dwh import config
    from dwh.compile_airflow import build_dag
    from dwh.graph import load_pipeline

    instant_polls(monkeypatch)
    variables |= {"dwh_redshift_database": "dev", "dwh_redshift_secret_arn": SECRET}
    for name, value in variables.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_{name.upper()}", value)
    pipeline = load_pipeline(config.PIPELINES_DIR / "warehouse_maintenance.yaml")
    pipeline = pipeline.model_copy(update={"redshift_api_target": api_target})
    dag = build_dag(pipeline, "aws")
    task_id = next(n.id for n in pipeline.nodes if n.kind == "sql")
    task = dag.get_task(task_id)
    task.render_template_fields({"var": {"value": VariableAccessor(False)}}, dag.get_template_env())
    task.poll_interval, task.aws_conn_id = 0, None
    task.execute({})
    requests = [st["request"] for st in redshift.statements.values()]
    assert requests and all({k: r.get(k) for k in reaches} == reaches for r in requests)
    other = ({"ClusterIdentifier", "WorkgroupName"} - set(reaches)).pop()
    assert not any(other in r for r in requests)


def test_copy_json_refuses_a_string_longer_than_its_varchar(redshift, data):
    run(data, "create table j (entity varchar(4))")
    key = "_metrics/j/metrics.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b'{"entity": "orders"}')
    desc = run(data, copy_sql("j", key, "json 'auto'"))
    assert "value too long for type character varying(4)" in desc["Error"]


def _handmade():
    """tests/warehouse/handmade.py: its row builders and the pipeline's dw and mart files."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "warehouse" / "handmade.py"
    spec = importlib.util.spec_from_file_location("rehearsal_handmade", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quarantine_files(processed, ds: str) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from quarantine_files import write_quarantine

    write_quarantine(processed, "orders", ds, {"bad_timestamp": 2, "unknown_enum": 1})
    write_quarantine(processed, "customers", ds, {"required_missing": 3})
    write_quarantine(processed, "sellers", ds, {})


def processed_catalog_in_moto(redshift, processed) -> None:
    """The processed catalog as the rehearsal seeds it, its files uploaded to the bucket, and the
    external schema made through the Data API with the catalog's database."""
    from dwh.sql import SAMPLE_CONTEXT
    from dwh_tools.rehearsal import seed

    database = SAMPLE_CONTEXT["glue_processed_database"]
    tf = {"glue_processed_database": database, "buckets": {"processed": BUCKET}}
    seed._processed_catalog(boto3.client("glue"), tf)
    for path in sorted(processed.rglob("*.parquet")):
        key = path.relative_to(processed).as_posix()
        boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
    boto3.client("s3").put_object(Bucket=BUCKET, Key="_quarantine/orders/_SUCCESS", Body=b"")
    from dwh import config

    ddl = (config.SQL_DIR / "ddl" / "05_spectrum.sql").read_text()
    outcomes = redshift.run(split_statements(render(ddl, SAMPLE_CONTEXT)))
    assert {o["status"] for o in outcomes} == {"FINISHED"}


def test_spectrum_reads_the_quarantine_objects_through_the_catalog(redshift, data, tmp_path):
    """mart.operational_rejects sent through the Data API counts the quarantine Parquet in (moto's)
    S3, found through the Glue catalog, as it is when read: a deleted object's rows are gone."""
    from dwh import config
    from dwh.sql import SAMPLE_CONTEXT

    ds = "2024-03-01"
    quarantine_files(tmp_path / "processed", ds)
    redshift.create_schema()
    processed_catalog_in_moto(redshift, tmp_path / "processed")
    context = SAMPLE_CONTEXT | {"ds": ds, "run_id": f"scheduled__{ds}"}
    for rel in ("mart/operational.sql",):
        sqls = split_statements(render((config.SQL_DIR / rel).read_text(), context))
        assert run(data, sqls)["Status"] == "FINISHED", rel
    query = "select entity, rule_name, rows_rejected from mart.operational_rejects order by 1, 2"
    assert redshift.run([query])[0]["rows"] == [
        ("customers", "required_missing", 3),
        ("orders", "bad_timestamp", 2),
        ("orders", "unknown_enum", 1),
    ]
    (key,) = [
        o["Key"]
        for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="_quarantine/customers/")[
            "Contents"
        ]
    ]
    boto3.client("s3").delete_object(Bucket=BUCKET, Key=key)
    assert [r[0] for r in redshift.run([query])[0]["rows"]] == ["orders", "orders"]


def test_dw_and_marts_through_the_data_api_match_the_local_warehouse(redshift, data, tmp_path):
    """One day staged alike, then every dw and mart file sent as one batch each, as MWAA sends
    them: every table and view of staging, dw and mart has the local warehouse's checksum."""
    from dwh import config
    from dwh.sql import SAMPLE_CONTEXT

    hm = _handmade()
    ds = "2024-03-01"
    day = {
        "customers": [hm.customer("c1", "p1", "01001", "sao paulo", "SP")],
        "orders": [hm.order("o1", "c1", f"{ds} 10:00:00", delivered="2024-03-05 12:00:00")],
        "order_items": [hm.item("o1", 1, "pr1", "s1", "100.00", "10.50")],
        "products": [hm.product("pr1", "perfumaria")],
        "sellers": [hm.seller("s1")],
        "order_reviews": [hm.review("r1", "o1", 5, "ótimo")],
        "order_payments": [hm.payment("o1", 1, "credit_card", "110.50")],
    }
    processed = tmp_path / "processed"  # the same quarantine files, locally and in S3
    quarantine_files(processed, ds)
    local = hm.HandWarehouse(tmp_path / "local.duckdb")
    try:
        local.load_day(ds, **day)
        for rel in hm.MART_FILES:
            local.wh.run_sql_file(rel, {**hm.context(ds), "processed_uri": str(processed)})
        redshift.create_schema()
        processed_catalog_in_moto(redshift, processed)
        inserts = []
        for entity, rows in day.items():
            for n, row in enumerate(rows, start=1):
                row = {"_source_file": "hand.csv", "_source_line": n + 1, "ingest_date": ds, **row}
                values = ", ".join("null" if v is None else repr(str(v)) for v in row.values())
                inserts.append(f"insert into staging.{entity} ({', '.join(row)}) values ({values})")
        assert run(data, inserts)["Status"] == "FINISHED"
        context = SAMPLE_CONTEXT | {"ds": ds, "run_id": f"scheduled__{ds}T02:00:00+00:00"}
        for rel in [*hm.DW_FILES, *hm.MART_FILES]:
            sqls = split_statements(render((config.SQL_DIR / rel).read_text(), context))
            desc = run(data, sqls)
            assert desc["Status"] == "FINISHED", (rel, desc.get("Error"))
        assert redshift.checksums() == local.wh.table_checksums()
    finally:
        local.close()


def test_copy_json_auto_ignorecase_and_a_trailing_semicolon(redshift, data):
    run(data, "create table u (entity varchar(64), rows_in bigint)")
    key = "_metrics/u/metrics.json"
    body = b'{"Entity": "orders", "ROWS_IN": 2}\n{"entity": "items", "rows_in": 3}'
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body)
    desc = run(data, copy_sql("u", key, "json 'auto ignorecase'") + ";")
    assert desc["Status"] == "FINISHED", desc.get("Error")
    sid = run(data, "select entity, rows_in from u order by rows_in")["Id"]
    assert [r[0]["stringValue"] for r in data.get_statement_result(Id=sid)["Records"]] == [
        "orders",
        "items",
    ]


def test_the_context_manager_installs_and_restores(aws, tmp_path):
    import redshift_connector
    from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

    real_connection = redshift_connector.Connection
    with DuckRedshift(tmp_path / "cm.duckdb") as rs:
        assert run(boto3.client("redshift-data"), "select 1")["Status"] == "FINISHED"
        assert redshift_connector.Connection == rs.driver_connection
    assert redshift_connector.Connection is real_connection
    assert not hasattr(RedshiftDataAPIServiceResponse, "batch_execute_statement")
    rs.close()


class _TaskState:
    """The task state store of one task instance; it outlives a clear of the task."""

    def __init__(self):
        self.values = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value):
        self.values[key] = value


def test_clearing_a_succeeded_load_runs_its_sql_again(redshift, tmp_path, monkeypatch):
    """load_orders of the aws DAG, rendered as the worker renders it, run, then run again with
    the same task state (a clear after success): the second try submits the load again."""
    from dwh import config
    from dwh.compile_airflow import build_dag
    from dwh.graph import load_pipeline

    redshift.create_schema()
    ds = "2024-03-01"
    select = (
        "select 'o1' as order_id, 'c1' as customer_id, 'delivered' as order_status, "
        "timestamp '2024-03-01 08:00:00' as order_purchase_timestamp, "
        "null::timestamp as order_approved_at, null::timestamp as order_delivered_carrier_date, "
        "null::timestamp as order_delivered_customer_date, "
        "null::timestamp as order_estimated_delivery_date, "
        "'raw/orders/x.csv' as _source_file, 2::bigint as _source_line, "
        f"date '{ds}' as ingest_date"
    )
    put_parquet(tmp_path, f"orders/ingest_date={ds}/part-00000.snappy.parquet", select)
    metrics = {"entity": "orders", "ingest_date": ds, "run_id": "glue-1", "rows_in": 1}
    metrics |= {"rows_out": 1, "rows_quarantined": 0, "rejected_by_rule": "{}"}
    key = f"_metrics/orders/ingest_date={ds}/metrics.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(metrics).encode())
    for name, value in {
        "processed_uri": f"s3://{BUCKET}",
        "redshift_copy_role_arn": ROLE,
        "redshift_cluster_id": CLUSTER,
        "redshift_database": "dwh",
        "redshift_secret_arn": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rs",
    }.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_DWH_{name.upper()}", value)

    dag = build_dag(load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml"), "aws")
    task = dag.get_task("load_orders")
    from airflow.sdk.execution_time.context import VariableAccessor

    # The template context's var.value, as the worker reads Variables.
    context = {"ds": ds, "run_id": "manual__1", "var": {"value": VariableAccessor(False)}}
    task.render_template_fields(context, dag.get_template_env())
    task.poll_interval = 0
    state = _TaskState()
    loads = []
    for _ in range(2):  # the first try, then the try after "clear load_orders"
        before = len(redshift.statements)
        task.execute({"task_state_store": state, "ds": ds})
        loads.append(len(redshift.statements) - before)
    assert loads == [1, 1], f"submissions per try: {loads} (a cleared load must run its SQL)"


def test_a_data_api_call_logs_in_as_its_secrets_user_and_a_missing_secret_fails(redshift, data):
    secret = boto3.client("secretsmanager").create_secret(
        Name="dwh/redshift/etl", SecretString=json.dumps({"username": "dwh_etl", "password": "x"})
    )["ARN"]
    kw = {"ClusterIdentifier": CLUSTER, "Database": "dev"}
    wait(data, data.execute_statement(Sql="select 1", SecretArn=secret, **kw)["Id"])
    wait(data, data.execute_statement(Sql="select 1", DbUser="awsuser", **kw)["Id"])
    assert redshift.logins == ["dwh_etl", "awsuser"]
    missing = secret.replace("etl", "nobody")
    with pytest.raises(data.exceptions.ValidationException, match="cannot log in with secret"):
        data.execute_statement(Sql="select 1", SecretArn=missing, **kw)
