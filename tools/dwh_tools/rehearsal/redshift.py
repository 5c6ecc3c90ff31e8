"""Redshift executed for real on DuckDB, behind moto's Redshift Data API and the SQL driver.

moto 5.2.5 records Redshift Data API statements but never runs them: there is no
BatchExecuteStatement, a statement stays STARTED forever and GetStatementResult returns fixed
sample rows. :class:`DuckRedshift` replaces those response handlers in-process (under
``moto.mock_aws``) so each statement is transpiled with :func:`dwh.sql.to_duckdb` and run on one
DuckDB file, and the API reports what really happened. The same file is reached by the SQL checks:
``redshift_connector.connect`` keeps doing all of its own argument handling (and its IAM calls,
which go to moto), and only the socket connection at its end is replaced by a DuckDB one.

Redshift's COPY is rehearsed with Redshift's rules, since that is where a load most often breaks
on AWS and nowhere else: Parquet columns are matched by position, their types must fit the
table's, varchar lengths are enforced, an empty prefix is an error.

    redshift = DuckRedshift(tmp_path / "redshift.duckdb", workgroups=["dwh"])
    with mock_aws(), redshift:            # or redshift.install(monkeypatch) inside mock_aws
        redshift.create_schema()          # or let create_warehouse_schema run through the API
        ...  # boto3 redshift-data clients, RedshiftDataOperator, RedshiftSQLHook, SQL checks
    redshift.checksums()                  # comparable with Warehouse.table_checksums

Redshift Spectrum is rehearsed through the catalog: ``create external schema ... database 'd'`` is
remembered; once a statement has named that schema, every statement (and ``checksums()``) first
resolves it again, so a view over it reads S3 as it is then: every
table of Glue database ``d`` (moto's catalog, read with the copy role) becomes a DuckDB view over a
mirror of the Parquet objects below the table's S3 location, its columns read by name, with
Spectrum's ``"$path"`` (the object's path in the mirror) and Spectrum's hidden-file rule.

Also: ``run(statements)`` executes directly (outcome per statement), ``statements`` holds every
Data API submission (request, outcomes), ``connections`` the arguments the driver connected with,
``logins`` the database user of every submission and driver connection (a Data API call with a
``SecretArn`` logs in as the secret's ``username``, read from Secrets Manager: a missing secret fails),
``s3_client_factory`` gives COPY its S3 client (default: boto3's, which moto serves).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
import tempfile
import threading
import time
import types
import uuid
from pathlib import Path

import duckdb

from dwh.sql import REDSHIFT_ONLY, local_context, render, split_statements, to_duckdb

# The catalog of declared character lengths: DuckDB accepts varchar(n) but keeps no n.
CATALOG = "rehearsal_catalog"
_CATALOG_DDL = (
    f"create schema if not exists {CATALOG}",
    f"create table if not exists {CATALOG}.char_length (schema_name varchar, table_name varchar, "
    "column_name varchar, max_bytes integer, type_name varchar)",
)
DATA_API = ("execute_statement", "batch_execute_statement", "describe_statement")
DATA_API += ("get_statement_result", "cancel_statement")
QUERY = re.compile(r"^\s*(select|with|values|show)\b", re.I)
COPY = re.compile(
    r"^\s*copy\s+(?P<table>[\w.\"]+)\s+from\s+'(?P<uri>[^']*)'(?P<opts>.*)$", re.I | re.S
)
EXTERNAL_SCHEMA = re.compile(
    r"^\s*create\s+external\s+schema\s+(?:if\s+not\s+exists\s+)?(?P<schema>\w+)\s+"
    r"from\s+data\s+catalog\s+database\s+'(?P<database>[^']*)'",
    re.I,
)
# Spectrum skips hidden objects (Spark's _SUCCESS among them): names starting with '.', '_' or '#',
# or ending in '~'.
HIDDEN = re.compile(r"^[._#]|.*~$")
COPY_OPTION = re.compile(
    r"\s*(?:iam_role\s+'(?P<role>[^']*)'|(?:format\s+(?:as\s+)?)?(?P<fmt>parquet|json)"
    r"(?:\s+'(?P<json>[^']*)')?|region\s+'[^']*'|(?:compupdate|statupdate)\s+(?:on|off|true|false))",
    re.I,
)
# Redshift type names for a DuckDB type: in error texts and in the Data API's ColumnMetadata.
_RS_TYPE = {"INTEGER": "int4", "BIGINT": "int8", "SMALLINT": "int2", "DOUBLE": "float8"}
_RS_TYPE |= {"FLOAT": "float4", "VARCHAR": "varchar", "BOOLEAN": "bool", "DATE": "date"}
_RS_TYPE |= {"TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz"}
# Parquet kind (see _parquet_kind) accepted by each column type, as Redshift's COPY does.
_ACCEPTS = {"SMALLINT": {"int32"}, "INTEGER": {"int32"}, "BIGINT": {"int32", "int64"}}
_ACCEPTS |= {"DOUBLE": {"double", "float"}, "FLOAT": {"float"}, "VARCHAR": {"string"}}
_ACCEPTS |= {"BOOLEAN": {"boolean"}, "DATE": {"date"}, "TIMESTAMP": {"timestamp"}}
_ACCEPTS |= {"TIMESTAMP WITH TIME ZONE": {"timestamp"}}


class RedshiftError(Exception):
    """A statement failed where Redshift would fail it; the text is Redshift-like."""


def _now() -> float:
    return time.time()


def _field(value) -> dict:
    """One value as the Data API's typed Field (numeric and time values travel as text)."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"blobValue": base64.b64encode(value).decode()}
    if isinstance(value, dt.datetime):
        return {"stringValue": value.isoformat(sep=" ")}
    if isinstance(value, dict | list):
        return {"stringValue": json.dumps(value)}
    return {"stringValue": str(value)}


def _column_metadata(description) -> list[dict]:
    out = []
    for name, type_code, *_ in description or []:
        duck = str(type_code)
        meta = {"name": name, "label": name, "nullable": 1, "schemaName": "", "tableName": ""}
        m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", duck)
        if m:
            meta |= {"typeName": "numeric", "precision": int(m[1]), "scale": int(m[2])}
        else:
            meta["typeName"] = _RS_TYPE.get(duck, duck.lower())
        meta["isSigned"] = meta["typeName"].startswith(("int", "float", "numeric"))
        out.append(meta)
    return out


def _bare(sql: str) -> str:
    """The statement without its comments, to recognise its kind."""
    return re.sub(r"--[^\n]*", "", sql).strip().rstrip(";").strip()


def _head(sql: str) -> str:
    return " ".join(_bare(sql).split())[:120]


def _literal(value) -> str:
    """A driver parameter as SQL text, so the statement still transpiles as one string."""
    if value is None:
        return "null"
    if isinstance(value, bool | int | float | decimal.Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


class DuckRedshift:
    """One DuckDB file standing in for a Redshift cluster, reachable as AWS reaches Redshift."""

    def __init__(self, path, s3_client_factory=None, region: str = "eu-west-1", workgroups=()):
        self.path = Path(path)
        self.region = region
        self.workgroups = set(workgroups)  # Redshift Serverless workgroups that exist
        self._s3_factory = s3_client_factory
        self.con = duckdb.connect(str(self.path))
        self._setup(self.con)
        for stmt in _CATALOG_DDL:
            self.con.execute(stmt)
        self.lock = threading.RLock()
        self.statements: dict[str, dict] = {}
        self.connections: list[dict] = []  # what the driver handed to its socket connection
        self.logins: list[str] = []  # the database user of every submission and connection
        self._undo: list = []
        self._aborts: list[re.Pattern] = []  # see abort_once
        self.aborted: list[str] = []  # the statements that abort_once made fail
        self.external: dict[str, str] = {}  # external schema -> Glue database
        self._named: set[str] = set()  # external schemas a statement named (see _resolve)
        self._mirrored: dict[str, str] = {}  # s3 URI of a mirrored object -> its ETag
        self.spectrum_mirror = self.path.with_name(self.path.stem + ".spectrum")

    @staticmethod
    def _setup(con) -> None:
        con.execute("set threads to 2")
        con.execute("set TimeZone = 'UTC'")  # Redshift sessions run in UTC

    def s3(self):
        if self._s3_factory:
            return self._s3_factory()
        import boto3

        return boto3.client("s3", region_name=self.region)

    # -- plugging in ------------------------------------------------------------------------

    def install(self, monkeypatch, data_api: bool = True, driver: bool = True) -> None:
        """Patch moto's Redshift Data API handlers (``data_api``), and (``driver``) the SQL
        driver's socket connection plus the credential calls moto lacks (Redshift's
        GetClusterCredentialsWithIAM, Redshift Serverless). ``monkeypatch``: pytest's, or alike."""
        import redshift_connector
        from moto.core.botocore_stubber import BotocoreStubber
        from moto.redshift.responses import RedshiftResponse
        from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

        for method in DATA_API if data_api else ():
            handler = getattr(self, "_api_" + method)
            monkeypatch.setattr(
                RedshiftDataAPIServiceResponse,
                method,
                lambda resp, h=handler: h(resp),
                raising=False,
            )
        if not driver:
            return
        if not hasattr(RedshiftResponse, "get_cluster_credentials_with_iam"):
            monkeypatch.setattr(
                RedshiftResponse,
                "get_cluster_credentials_with_iam",
                _get_cluster_credentials_with_iam,
                raising=False,
            )
        monkeypatch.setattr(redshift_connector, "Connection", self.driver_connection)
        # moto has no Redshift Serverless at all: its two credential calls are answered here.
        moto_process = BotocoreStubber.process_request
        monkeypatch.setattr(
            BotocoreStubber,
            "process_request",
            lambda stub, req: self._serverless(req) or moto_process(stub, req),
        )

    def __enter__(self) -> DuckRedshift:
        patcher = _Patcher()
        self.install(patcher)
        self._undo.append(patcher)
        return self

    def __exit__(self, *exc) -> None:
        self._undo.pop().undo()

    def close(self) -> None:
        self.con.close()

    # -- running statements -----------------------------------------------------------------

    def abort_once(self, pattern: str) -> None:
        """The next statement matching ``pattern`` (a regular expression) fails as Redshift fails
        one of two concurrent writers (error 1023), so a retry of it is rehearsed; later ones run."""
        self._aborts.append(re.compile(pattern, re.I))

    def _aborted(self, statement: str) -> bool:
        for pattern in self._aborts:
            if pattern.search(statement):
                self._aborts.remove(pattern)
                self.aborted.append(statement)
                return True
        return False

    def run(self, statements: list[str], con=None, transaction: bool = True) -> list[dict]:
        """Run Redshift statements, all or nothing when ``transaction`` (a batch); one outcome
        per statement (FINISHED, FAILED, or ABORTED for those after a failure)."""
        con = con or self.con
        outcomes = [{"sql": s, "status": "SUBMITTED"} for s in statements]
        with self.lock:
            for n, out in enumerate(outcomes, start=1):
                start = _now()
                # Each statement is atomic on its own too (a COPY of many files); a batch is one
                # transaction from its first statement to its last.
                if n == 1 or not transaction:
                    con.execute("begin transaction")
                try:
                    if self._aborted(out["sql"]):
                        raise RedshiftError(
                            "1023 DETAIL: Serializable isolation violation on a table of this "
                            "transaction (a concurrent writer committed first)"
                        )
                    out |= self.execute_one(con, out["sql"], transaction, f"statement {n}")
                except Exception as exc:
                    con.execute("rollback")
                    msg = str(exc).strip()
                    out |= {
                        "status": "FAILED",
                        "error": f"ERROR: {msg}",
                        "duration": _now() - start,
                    }
                    out["error_head"] = (
                        f"statement {n} of {len(outcomes)} failed: {_head(out['sql'])!r}"
                    )
                    for later in outcomes[n:]:
                        later["status"] = "ABORTED"
                    return outcomes
                if n == len(outcomes) or not transaction:
                    con.execute("commit")
                out["duration"] = _now() - start
                out["status"] = "FINISHED"
        return outcomes

    def execute_one(self, con, statement: str, in_transaction: bool, source: str) -> dict:
        """One Redshift statement on ``con``: its columns, rows and row count."""
        bare = _bare(statement)
        if in_transaction and re.match(r"^vacuum\b", bare, re.I):
            raise RedshiftError("VACUUM cannot run inside a transaction block")
        m = COPY.match(bare)
        if m:
            loaded = self._copy(con, m["table"].replace('"', ""), m["uri"], m["opts"])
            return {"has_result_set": False, "result_rows": loaded}
        ext = EXTERNAL_SCHEMA.match(bare)
        if ext:
            self.external[ext["schema"].lower()] = ext["database"]
        if REDSHIFT_ONLY.match(bare):  # ANALYZE, VACUUM, GRANT, Spectrum: Redshift's own
            return {"has_result_set": False, "result_rows": 0}
        self._named |= {s for s in self.external if re.search(rf"\b{s}\s*\.", bare, re.I)}
        if self._named:  # a view over an external table reads S3 as it is when the view is read
            self._resolve(con, self._named)
        duck = to_duckdb(statement, source)
        ddl = self._ddl_target(con, bare)
        con.execute(duck)
        if QUERY.match(bare):
            rows = con.fetchall()
            return {
                "has_result_set": True,
                "columns": _column_metadata(con.description),
                "rows": rows,
                "result_rows": len(rows),
            }
        counted = con.fetchall() if con.description else []
        if ddl:
            self._record_lengths(con, *ddl)
        target = re.match(r"^(?:insert\s+into|update)\s+([\w.\"]+)", bare, re.I)
        if target:  # Redshift refuses a string longer than its column: DuckDB keeps no length
            table = target[1].replace('"', "")
            self._check_lengths(con, table, self._columns(con, table), table)
        # DuckDB answers DML with its row count, which is what Redshift reports as ResultRows.
        count = counted[0][0] if counted and isinstance(counted[0][0], int) else 0
        return {"has_result_set": False, "result_rows": count}

    # -- Spectrum ---------------------------------------------------------------------------

    def _resolve(self, con, schemas) -> None:
        """Each external schema as DuckDB views over the mirror of its tables' S3 objects."""
        import boto3

        from dwh_tools.processed_catalog import view_sql

        glue = boto3.client("glue", region_name=self.region)  # the copy role's, as Spectrum
        for schema in sorted(schemas):
            database = self.external[schema]
            tables = []
            for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
                tables += page["TableList"]
            con.execute(f"create schema if not exists {schema}")
            for t in tables:
                sd = t["StorageDescriptor"]
                folder = self._mirror_location(sd["Location"])
                columns = [{"name": c["Name"], "type": c["Type"]} for c in sd["Columns"]]
                con.execute(view_sql(schema, t["Name"], columns, folder))

    def _mirror_location(self, uri: str) -> Path:
        """Make the local mirror of the objects below ``uri`` equal to S3; its folder."""
        if not uri.startswith("s3://"):
            raise RedshiftError(f"external table location must start with s3://: {uri!r}")
        bucket, _, prefix = uri[5:].partition("/")
        s3 = self.s3()
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                if not o["Key"].endswith("/") and not HIDDEN.match(o["Key"].rsplit("/", 1)[-1]):
                    found[o["Key"]] = o["ETag"]
        root = self.spectrum_mirror / bucket
        for key, etag in found.items():
            local, s3_uri = root / key, f"s3://{bucket}/{key}"
            if self._mirrored.get(s3_uri) != etag or not local.exists():
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                self._mirrored[s3_uri] = etag
        folder = root / prefix
        for local in folder.rglob("*") if folder.exists() else ():
            key = local.relative_to(root).as_posix()
            if local.is_file() and key not in found:  # deleted in S3 since it was mirrored
                local.unlink()
                self._mirrored.pop(f"s3://{bucket}/{key}", None)
        return folder

    # -- the declared lengths DuckDB forgets ------------------------------------------------

    def _ddl_target(self, con, statement: str):
        if not re.match(r"^\s*(create|drop)\s+(table|temp|temporary)\b", statement, re.I):
            return None
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(statement, read="redshift")
        table = tree.find(exp.Table)
        schema, name = (table.db or "main"), table.name
        existed = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? "
            "and table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if isinstance(tree, exp.Drop):
            return (schema, name, None)
        if existed or not isinstance(tree.this, exp.Schema):
            return None  # IF NOT EXISTS over an existing table, or CREATE TABLE AS: no DDL lengths
        lengths = []
        for col in tree.this.expressions:
            if not isinstance(col, exp.ColumnDef) or col.kind is None:
                continue
            kind = col.kind.this
            if kind not in (exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR,
                            exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR,
                            exp.DataType.Type.TEXT):  # fmt: skip
                continue
            fixed = kind in (exp.DataType.Type.CHAR, exp.DataType.Type.NCHAR)
            param = col.kind.expressions[0].this if col.kind.expressions else None
            text = param.name if param is not None else ""
            # Redshift: varchar is varchar(256), char is char(1), varchar(max) is 65535 bytes.
            n = 65535 if text.lower() == "max" else int(text) if text else 1 if fixed else 256
            lengths.append((col.name, n, "character" if fixed else "character varying"))
        return (schema, name, lengths)

    @staticmethod
    def _record_lengths(con, schema: str, name: str, lengths) -> None:
        where = "schema_name = ? and table_name = ?"
        con.execute(f"delete from {CATALOG}.char_length where {where}", [schema, name])
        for col, n, type_name in lengths or []:
            con.execute(
                f"insert into {CATALOG}.char_length values (?, ?, ?, ?, ?)",
                [schema, name, col, n, type_name],
            )

    def _columns(self, con, table: str) -> list[tuple]:
        """(name, DuckDB type, nullable, (max bytes, type name) or None) in table order."""
        schema, _, name = table.rpartition(".")
        schema = schema or "main"
        cols = con.execute(
            "select column_name, data_type, is_nullable = 'YES' from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        if not cols:
            raise RedshiftError(f'relation "{table}" does not exist')
        lengths = {
            c: (n, t)
            for c, n, t in con.execute(
                f"select column_name, max_bytes, type_name from {CATALOG}.char_length "
                "where schema_name = ? and table_name = ?",
                [schema, name],
            ).fetchall()
        }
        return [(c, t, null, lengths.get(c)) for c, t, null in cols]

    # -- COPY -------------------------------------------------------------------------------

    def _copy(self, con, table: str, uri: str, opts: str) -> int:
        role = fmt = json_option = None
        pos = 0
        while pos < len(opts.rstrip()):
            m = COPY_OPTION.match(opts, pos)
            if not m or m.end() == pos:
                raise RedshiftError(f"COPY option not rehearsed here: {opts[pos:].strip()[:60]!r}")
            role = m["role"] if m["role"] is not None else role
            fmt = (m["fmt"] or fmt or "").lower() or None
            json_option = m["json"] if m["json"] is not None else json_option
            pos = m.end()
        if not role or not re.match(r"^(default|arn:aws[\w-]*:iam::\d{12}:role/\S+)$", role):
            raise RedshiftError(f"Invalid IAM_ROLE {role!r}: an IAM role ARN or DEFAULT is needed")
        json_option = (json_option or "").lower()
        if fmt not in ("parquet", "json") or (
            fmt == "json" and json_option not in ("auto", "auto ignorecase")
        ):
            raise RedshiftError(f"COPY format not rehearsed here: {fmt} {json_option or ''}")
        if not uri.startswith("s3://"):
            raise RedshiftError(f"S3 path must start with s3://: {uri!r}")
        bucket, _, prefix = uri[5:].partition("/")
        columns = self._columns(con, table)
        with tempfile.TemporaryDirectory(prefix="rehearsal-copy-") as tmp:
            files = self._download(bucket, prefix, Path(tmp), columnar=fmt == "parquet")
            if fmt == "parquet":
                return sum(self._copy_parquet(con, table, columns, k, f) for k, f in files)
            ignorecase = json_option == "auto ignorecase"
            return sum(self._copy_json(con, table, columns, k, f, ignorecase) for k, f in files)

    def _download(self, bucket: str, prefix: str, into: Path, columnar: bool) -> list:
        s3 = self.s3()
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        if columnar:
            # Columnar COPY reads through the Spectrum scan, which ignores hidden files (Spark's
            # _SUCCESS marker among them): names starting with '.', '_' or '#', or ending in '~'.
            keys = [k for k in keys if not re.match(r"^[._#]|.*~$", k.rsplit("/", 1)[-1])]
        if not keys:
            raise RedshiftError(f"The specified S3 prefix '{prefix}' does not exist")
        files = []
        for n, key in enumerate(sorted(keys)):
            # A flat local name: no 'name=value' folders DuckDB would read as hive partitions.
            local = into / f"{n:05d}.data"
            local.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            files.append((f"s3://{bucket}/{key}", local))
        return files

    def _copy_parquet(self, con, table: str, columns: list, key: str, local: Path) -> int:
        leaves = con.execute(
            "select name, type, converted_type, logical_type, precision, scale, "
            "repetition_type, num_children from parquet_schema(?)",
            [str(local)],
        ).fetchall()[1:]
        if len(leaves) != len(columns) or any(leaf[7] for leaf in leaves):
            raise RedshiftError(
                "Spectrum Scan Error: Unmatched number of columns between table and file. "
                f"Table columns: {len(columns)}, Data columns: {len(leaves)}, File name: {key}"
            )
        for (col, duck_type, _, _), leaf in zip(columns, leaves, strict=True):
            kind = _parquet_kind(leaf)
            m = re.match(r"DECIMAL\((\d+),(\d+)\)", duck_type.replace(" ", ""))
            if m:
                ok = kind[0] == "decimal" and kind[2] == int(m[2]) and kind[1] <= int(m[1])
            else:
                ok = kind[0] in _ACCEPTS.get(duck_type, ())
            if not ok:
                name, physical, converted, *_ = leaf
                schema_text = f"{(leaf[6] or 'optional').lower()} {physical.lower()} {name}"
                schema_text += f" ({converted})" if converted else ""
                raise RedshiftError(
                    f"Spectrum Scan Error: File '{key}' has an incompatible Parquet schema for "
                    f"column '{key.rsplit('/', 1)[0]}/.{col}'. Column type: "
                    f"{_redshift_type(duck_type).upper()}, Parquet schema: {schema_text}"
                )
        src = f"read_parquet('{local}', hive_partitioning = false)"
        names = [leaf[0] for leaf in leaves]
        self._check_lengths(con, src, columns, f"{table} from {key}", names)
        con.execute(f"insert into {table} select * from {src}")  # by position, as Redshift
        return con.fetchall()[0][0]

    @staticmethod
    def _check_lengths(con, source: str, columns, label: str, names=None) -> None:
        """Fail like Redshift when a value of ``source`` is longer than its column's varchar(n),
        in bytes; ``names`` are the source's columns, matched by position (the table's if none)."""
        checks = [
            (col, name, ln)
            for (col, _, _, ln), name in zip(columns, names or [c[0] for c in columns], strict=True)
            if ln
        ]
        if not checks:
            return
        longest = con.execute(
            "select " + ", ".join(f'max(strlen("{n}"))' for _, n, _ in checks) + f" from {source}"
        ).fetchone()
        for (col, _, (n, type_name)), got in zip(checks, longest, strict=True):
            if got is not None and got > n:
                raise RedshiftError(
                    f"value too long for type {type_name}({n}): column '{col}' of {label} "
                    f"(longest value {got} bytes)"
                )

    def _copy_json(self, con, table, columns, key: str, local: Path, ignorecase: bool) -> int:
        text, decoder, pos, records = local.read_text(encoding="utf-8"), json.JSONDecoder(), 0, []
        while pos < len(text.rstrip()):
            while text[pos].isspace():
                pos += 1
            record, pos = decoder.raw_decode(text, pos)
            if not isinstance(record, dict):
                raise RedshiftError(f"Load into table '{table}' failed: {key}: not a JSON object")
            records.append(record)
        names = [c for c, *_ in columns]
        for record in records:
            # 'auto': keys matched to column names (case-sensitive unless 'auto ignorecase');
            # a nested object or array is loaded as its JSON text.
            if ignorecase:
                record = {k.lower(): v for k, v in record.items()}
            row = [record.get(c) for c in names]
            row = [json.dumps(v) if isinstance(v, dict | list) else v for v in row]
            try:
                con.execute(f"insert into {table} values ({', '.join('?' for _ in names)})", row)
            except duckdb.Error as exc:
                raise RedshiftError(f"Load into table '{table}' failed: {key}: {exc}") from None
        self._check_lengths(con, table, columns, f"{table} from {key}")
        return len(records)

    # -- the Redshift Data API --------------------------------------------------------------

    def _submit(self, resp, sqls: list[str], batch: bool):
        body = json.loads(resp.body or "{}")
        if sum(bool(body.get(k)) for k in ("ClusterIdentifier", "WorkgroupName", "SessionId")) != 1:
            _error("ValidationException", "Exactly one of ClusterIdentifier, "
                          "WorkgroupName or SessionId must be specified")  # fmt: skip
        if not sqls or any(not (s or "").strip() for s in sqls) or len(sqls) > 40:
            _error("ValidationException", "between 1 and 40 non-empty SQL statements")
        params = {p["name"]: p["value"] for p in body.get("Parameters") or []}
        if params:  # named :name parameters; the Data API sends every value as text
            sqls = [
                re.sub(r"(?<!:):(\w+)", lambda m: _literal(params.get(m[1], m[0])), s) for s in sqls
            ]
        self.logins.append(self._login(body))
        sid = str(uuid.uuid4())
        created = _now()
        # Redshift runs a batch as one transaction, and a lone statement in its own.
        outcomes = self.run(sqls, transaction=batch)
        failed = [o for o in outcomes if o["status"] == "FAILED"]
        self.statements[sid] = {
            "request": body,
            "batch": batch,
            "outcomes": outcomes,
            "created": created,
            "status": "FAILED" if failed else "FINISHED",
            "error": f"{failed[0]['error_head']}: {failed[0]['error']}" if failed else None,
            "describes": 0,
        }
        out = {"Id": sid, "CreatedAt": created}
        for k in ("ClusterIdentifier", "Database", "DbUser", "SecretArn", "WorkgroupName"):
            if body.get(k):
                out[k] = body[k]
        return 200, {}, json.dumps(out)

    def _login(self, body: dict) -> str:
        """The database user a Data API call runs as: the secret's ``username`` (the secret must
        exist and hold one), else ``DbUser``, else the caller's IAM identity (``IAMR:``)."""
        if body.get("SecretArn"):
            # Read from moto's Secrets Manager store, not through an API call: AWS reads the
            # secret with the caller's permission (checked on the caller's ExecuteStatement),
            # and a call made from here would be taken for the warehouse's COPY role's.
            from moto.secretsmanager.models import secretsmanager_backends

            arn = body["SecretArn"]
            parts = arn.split(":")
            region, account = (parts[3], parts[4]) if len(parts) > 4 else (self.region, None)
            try:
                backend = secretsmanager_backends[account or "123456789012"][region]
                value = backend.get_secret_value(arn, None, None)["SecretString"]
                return json.loads(value)["username"]
            except Exception as exc:  # moto's SecretNotFoundException, a secret without username
                _error("ValidationException", f"cannot log in with secret {arn}: {exc!r}")
        return body.get("DbUser") or "IAMR:caller"

    def _api_execute_statement(self, resp):
        return self._submit(resp, [json.loads(resp.body or "{}").get("Sql")], batch=False)

    def _api_batch_execute_statement(self, resp):
        return self._submit(resp, json.loads(resp.body or "{}").get("Sqls") or [], batch=True)

    def _find(self, sid: str):
        parent, _, sub = sid.partition(":")
        st = self.statements.get(parent)
        if st is None or (sub and not (sub.isdigit() and 1 <= int(sub) <= len(st["outcomes"]))):
            return None, None
        return st, (int(sub) if sub else None)

    def _api_describe_statement(self, resp):
        sid = json.loads(resp.body or "{}").get("Id", "")
        st, sub = self._find(sid)
        if st is None:
            _error("ResourceNotFoundException", f"Query {sid} does not exist")
        st["describes"] += 1
        # The real API is asynchronous: the first look sees the statement still running.
        running = st["describes"] == 1
        req = st["request"]
        out = {"Id": sid, "CreatedAt": st["created"], "UpdatedAt": _now(), "RedshiftPid": 1}
        for k in ("ClusterIdentifier", "Database", "DbUser", "SecretArn", "WorkgroupName"):
            if req.get(k):
                out[k] = req[k]
        subs = []
        for n, o in enumerate(st["outcomes"], start=1):
            status = "STARTED" if running else o["status"]
            d = {"Id": f"{sid.split(':')[0]}:{n}", "Status": status, "QueryString": o["sql"]}
            d |= {"CreatedAt": st["created"], "UpdatedAt": _now(), "RedshiftQueryId": n}
            if not running:
                d["HasResultSet"] = bool(o.get("has_result_set"))
                d["Duration"] = int(o.get("duration", 0) * 1e9)  # nanoseconds, as AWS
                d["ResultRows"] = o.get("result_rows", -1) if o["status"] == "FINISHED" else -1
                if o.get("error"):
                    d["Error"] = o["error"]
            subs.append(d)
        if sub is not None:
            return 200, {}, json.dumps(out | subs[sub - 1] | {"Id": sid})
        if running:
            out |= {"Status": "STARTED", "HasResultSet": False}
        else:
            out["Status"] = st["status"]
            out["Duration"] = sum(d.get("Duration", 0) for d in subs)
            out["HasResultSet"] = any(d["HasResultSet"] for d in subs)
            out["ResultRows"] = sum(max(d["ResultRows"], 0) for d in subs)
            if st["error"]:
                out["Error"] = st["error"]
        if st["batch"]:
            out["SubStatements"] = subs
            out["QueryString"] = "; ".join(o["sql"] for o in st["outcomes"])
        else:
            out["QueryString"] = st["outcomes"][0]["sql"]
        return 200, {}, json.dumps(out)

    def _api_get_statement_result(self, resp):
        sid = json.loads(resp.body or "{}").get("Id", "")
        st, sub = self._find(sid)
        if st is None:
            _error("ResourceNotFoundException", f"Query {sid} does not exist")
        if st["batch"] and sub is None:
            _error("ValidationException", "BatchExecuteStatement result can only be "
                          "retrieved with sub-statement id.")  # fmt: skip
        o = st["outcomes"][(sub or 1) - 1]
        if o["status"] != "FINISHED" or st["describes"] < 1 or not o.get("has_result_set"):
            _error("ValidationException", "Query does not have result. Please check "
                          "query status with DescribeStatement.")  # fmt: skip
        records = [[_field(v) for v in row] for row in o["rows"]]
        body = {"Records": records, "ColumnMetadata": o["columns"], "TotalNumRows": len(records)}
        return 200, {}, json.dumps(body)

    def _api_cancel_statement(self, resp):
        sid = json.loads(resp.body or "{}").get("Id", "")
        st, _ = self._find(sid)
        if st is None:
            _error("ResourceNotFoundException", f"Query {sid} does not exist")
        _error("ValidationException", "Could not cancel a query that is already in "
                      f"{st['status']} state with ID: {sid}")  # fmt: skip

    def _serverless(self, request):
        target = request.headers.get("X-Amz-Target") or b""
        target = target.decode() if isinstance(target, bytes) else target
        if not target.startswith("RedshiftServerless."):
            return None
        body = json.loads(request.body or b"{}")
        group = body.get("workgroupName")
        action = target.split(".", 1)[1]
        if group not in self.workgroups:
            code, message = "ResourceNotFoundException", f"Workgroup {group} not found."
            return 400, {}, json.dumps({"__type": code, "message": message})
        if action == "GetCredentials":
            seconds = body.get("durationSeconds", 900)
            creds = {"dbUser": "IAM:serverless-user", "dbPassword": uuid.uuid4().hex}
            creds |= {"expiration": _now() + seconds, "nextRefreshTime": _now() + seconds}
            return 200, {}, json.dumps(creds)
        if action == "GetWorkgroup":
            address = f"{group}.123456789012.{self.region}.redshift-serverless.amazonaws.com"
            workgroup = {"workgroupName": group, "endpoint": {"address": address, "port": 5439}}
            return 200, {}, json.dumps({"workgroup": workgroup})
        code, message = "ValidationException", f"{action} is not rehearsed"
        return 400, {}, json.dumps({"__type": code, "message": message})

    # -- the SQL driver ---------------------------------------------------------------------

    def driver_connection(self, **kwargs) -> DuckConnection:
        """Stands in for ``redshift_connector.Connection``: what ``connect`` opens a socket with
        after it validated its arguments. The checks Connection makes before the socket are kept."""
        import redshift_connector

        if kwargs.get("user") is None:
            raise redshift_connector.InterfaceError(
                "The 'user' connection parameter cannot be None"
            )
        if not kwargs.get("host") and not kwargs.get("unix_sock"):
            raise redshift_connector.InterfaceError(
                f"Unable to determine ip for host {kwargs.get('host')} port {kwargs.get('port')}"
            )
        self.connections.append(kwargs)
        self.logins.append(str(kwargs["user"]).removeprefix("IAM:").removeprefix("IAMA:"))
        return DuckConnection(self)

    # -- the schema and the comparison ------------------------------------------------------

    def create_schema(self, ddl_dir=None) -> None:
        """Run include/sql/ddl/*.sql as one transaction, as the local warehouse renders them."""
        from dwh import config

        context = local_context("1970-01-01", "")
        statements = []
        for path in sorted(Path(ddl_dir or config.SQL_DIR / "ddl").glob("*.sql")):
            statements += split_statements(render(path.read_text(encoding="utf-8"), context))
        failed = [o for o in self.run(statements) if o["status"] == "FAILED"]
        if failed:
            raise RedshiftError(f"{failed[0]['error_head']}: {failed[0]['error']}")

    def checksums(self, schemas=("staging", "dw", "mart")) -> dict[str, str]:
        """Per table and view, the local warehouse's own checksum, computed by its own code."""
        from dwh_tools.local_target.warehouse import Warehouse

        with self.lock:
            if self._named:  # views over external tables read S3 as it is now
                self._resolve(self.con, self._named)
            return Warehouse.table_checksums(types.SimpleNamespace(con=self.con), schemas)


class DuckConnection:
    """A DB-API connection over the rehearsal's DuckDB, with redshift_connector's manners:
    autocommit off by default (statements open a transaction that commit() ends)."""

    def __init__(self, redshift: DuckRedshift):
        self.redshift = redshift
        self.con = redshift.con.cursor()  # its own DuckDB connection: its own transaction
        DuckRedshift._setup(self.con)
        self.autocommit = False
        self.in_transaction = False

    def cursor(self) -> DuckCursor:
        return DuckCursor(self)

    def _end(self, how: str) -> None:
        if self.in_transaction:
            self.con.execute(how)
            self.in_transaction = False

    def commit(self) -> None:
        self._end("commit")

    def rollback(self) -> None:
        self._end("rollback")

    def close(self) -> None:
        self.rollback()
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DuckCursor:
    arraysize = 1

    def __init__(self, connection: DuckConnection):
        self.connection = connection
        self.description = None
        self.rowcount = -1
        self._rows: list = []

    def execute(self, operation: str, args=None, **_):
        import redshift_connector

        conn = self.connection
        if args:  # redshift_connector's paramstyle is "format": %s
            values = iter(args if isinstance(args, list | tuple) else [args])
            operation = re.sub(r"%s", lambda _: _literal(next(values)), operation)
        with conn.redshift.lock:
            for n, stmt in enumerate(split_statements(operation), start=1):
                # Autocommit still makes each statement atomic (a COPY of many files).
                if not conn.in_transaction:
                    conn.con.execute("begin transaction")
                    conn.in_transaction = True
                try:
                    out = conn.redshift.execute_one(
                        conn.con, stmt, not conn.autocommit, f"statement {n}"
                    )
                except Exception as exc:
                    # Redshift aborts the transaction of a failed statement.
                    conn.rollback()
                    raise redshift_connector.ProgrammingError(
                        f"ERROR: {exc} (statement: {_head(stmt)!r})"
                    ) from None
                if conn.autocommit:
                    conn.commit()
                self._rows = list(out.get("rows", []))
                self.rowcount = out.get("result_rows", -1)
                columns = out.get("columns")
                self.description = (
                    [(c["name"], c["typeName"], None, None, None, None, None) for c in columns]
                    if columns
                    else None
                )
        return self

    def executemany(self, operation: str, seq) -> None:
        for args in seq:
            self.execute(operation, args)

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=None):
        size = size or self.arraysize
        out, self._rows = self._rows[:size], self._rows[size:]
        return out

    def fetchall(self):
        out, self._rows = self._rows, []
        return out

    def close(self) -> None:
        self._rows = []

    def __iter__(self):
        while self._rows:
            yield self._rows.pop(0)


def _parquet_kind(leaf) -> tuple:
    """A Parquet leaf column as the kind COPY checks: ("int32",), ("decimal", p, s), ..."""
    _, physical, converted, logical, precision, scale, *_ = leaf
    converted, logical = converted or "", logical or ""
    if converted == "DECIMAL" or logical.startswith("DecimalType"):
        return ("decimal", int(precision), int(scale))
    if physical == "INT96" or converted.startswith("TIMESTAMP") or "Timestamp" in logical:
        return ("timestamp",)
    if converted == "DATE" or logical.startswith("DateType"):
        return ("date",)
    if physical in ("INT32", "INT64"):
        return ("int32" if physical == "INT32" else "int64",)
    if physical in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
        text = converted in ("UTF8", "ENUM", "JSON") or logical.startswith(("String", "Enum"))
        return ("string",) if text else ("binary",)
    return (physical.lower(),)


def _redshift_type(duck_type: str) -> str:
    m = re.match(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    return f"numeric({m[1]},{m[2]})" if m else _RS_TYPE.get(duck_type, duck_type.lower())


def _error(code: str, message: str) -> None:
    """An API error as moto serialises it (a raised error: a returned 400 would pass as 200)."""
    from moto.core.exceptions import JsonRESTError

    raise JsonRESTError(code, message)


def _get_cluster_credentials_with_iam(self):
    """GetClusterCredentialsWithIAM, which moto lacks: moto's own GetClusterCredentials rules
    (a known cluster, 900..3600 s) with the IAM identity as the database user."""
    from moto.core.responses import ActionResult

    cluster = self._get_param("ClusterIdentifier")
    seconds = self._get_int_param("DurationSeconds", 900)
    creds = self.redshift_backend.get_cluster_credentials(cluster, "iam-user", False, seconds)
    return ActionResult(creds | {"DbUser": "IAMR:iam-user", "NextRefreshTime": creds["Expiration"]})


class _Patcher:
    """The part of pytest's monkeypatch that install() uses, for use outside pytest."""

    _MISSING = object()

    def __init__(self):
        self._saved: list = []

    def setattr(self, target, name, value, raising=True):
        self._saved.append((target, name, target.__dict__.get(name, self._MISSING)))
        setattr(target, name, value)

    def undo(self) -> None:
        for target, name, old in reversed(self._saved):
            if old is self._MISSING:
                delattr(target, name)
            else:
                setattr(target, name, old)
        self._saved.clear()
