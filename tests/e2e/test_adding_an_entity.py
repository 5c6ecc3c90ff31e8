"""The README's "Adding an entity" recipe, followed on a copy of the repository, end to end.

In a copy of plugins/, tools/, include/, dags/, infra/ and lambdas/: add a fixture entity
to the contract and to the ecommerce_dwh entity list, run ``dwh compile`` (staging DDL, state
machines, schema), then land a CSV of it and run a small pipeline over it with the real Airflow
DAG on the local target: its rows reach their staging table and ops.load_log reconciles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dwh import config

pytestmark = pytest.mark.e2e
REPO = config.REPO_ROOT
DS = "2024-01-01"

# Step 1 of the recipe: the entity in include/glue/olist_contract.py (inside ENTITIES).
CONTRACT_ENTRY = """\
        Entity(
            "shipments",
            "fixture_shipments",
            (
                _c("shipment_id", required=True),
                _c("order_id", required=True),
                _c("carrier", required=True, accepted=("correios", "jadlog")),
                _c("parcel_count", INT, min_value=1),
                _c("weight_kg", DOUBLE, min_value=0),
                _c("declared_value", DECIMAL, min_value=0),
                _c("shipped_at", TIMESTAMP),
                _c("tracking_note", width=1024),
            ),
            natural_key=("shipment_id",),
        ),
"""

# A small pipeline over the new entity alone (the full ecommerce_dwh run takes minutes).
PIPELINE = """\
pipeline: fixture_new_entity
description: Fixture - crawl, clean, load and reconcile a newly added entity.
doc_md: Test fixture. If it fails in CI, read the failing task's log; nothing is paged.
owner: data-platform
tags: [fixture]
schedule: "0 2 * * *"
start_date: 2024-01-01
assumes_warehouse: ecommerce_dwh
defaults:
  retries: {count: 0, delay_seconds: 5, exponential_backoff: false, max_delay_seconds: 5}
  alerts: {on_failure: [sns], on_retry: [sns]}
for_each_entity:
  entities: [shipments]
  after: crawl_raw
  nodes:
    - {id: "clean_{entity}", kind: glue_job, script: clean_entity.py,
       arguments: {entity: "{entity}"}, depends_on: [crawl_raw]}
    - {id: "load_{entity}", kind: load, entity: "{entity}", table: "staging.{entity}",
       depends_on: ["clean_{entity}"]}
  checks:
    check_loads:
      - {name: "reconciled_{entity}", type: reconciliation, entity: "{entity}"}
nodes:
  - {id: crawl_raw, kind: glue_crawler, crawler: raw, entities: "{entities}"}
  - id: check_loads
    kind: quality
    checks:
      - {name: shipments_unique, type: unique, table: staging.shipments, columns: [shipment_id]}
    depends_on: [load_shipments]
"""

CSV = (
    "shipment_id,order_id,carrier,parcel_count,weight_kg,declared_value,shipped_at,tracking_note\n"
    "s1,o1,correios,1,2.5,120.00,2024-01-01 10:00:00,left the depot\n"
    "s2,o1,JADLOG,2,10.25,99.90,2024-01-01 11:30:00,\n"
    "s3,o2,fedex,1,1.0,10.00,2024-01-01 12:00:00,unknown carrier: quarantined\n"
    "s4,o3,correios,3,0.5,0.00,,\n"
)


def run(repo: Path, home: Path, *args: str, env_extra: dict | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("AIRFLOW_HOME", "DWH_INCLUDE_DIR")}
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    env.update(
        DWH_HOME=str(home),
        PYTHONPATH=os.pathsep.join(str(repo / p) for p in ("plugins", "tools", "include/glue")),
        **(env_extra or {}),
    )
    return subprocess.run(
        [sys.executable, "-m", "dwh_tools.cli", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def copy_repository(repo: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform*")
    for part in ("plugins", "tools", "include", "dags", "infra", "lambdas"):
        shutil.copytree(REPO / part, repo / part, ignore=skip)


def test_the_adding_an_entity_recipe_works_end_to_end(tmp_path):
    repo, home = tmp_path / "repo", tmp_path / "home"
    copy_repository(repo)

    # 1. The contract.
    contract = repo / "include" / "glue" / "olist_contract.py"
    text = contract.read_text()
    anchor = "    )\n}\n\nFILE_STEMS"
    assert text.count(anchor) == 1
    contract.write_text(text.replace(anchor, CONTRACT_ENTRY + anchor))
    # 2. The entity list of the pipeline's for_each_entity block.
    pipeline = repo / "include" / "pipelines" / "ecommerce_dwh.yaml"
    text = pipeline.read_text()
    anchor = "    - product_category_name_translation\n  after: crawl_raw\n"
    assert text.count(anchor) == 1
    pipeline.write_text(
        text.replace(anchor, anchor.replace("\n  after", "\n    - shipments\n  after"))
    )
    (repo / "include" / "pipelines" / "fixture_new_entity.yaml").write_text(PIPELINE)
    # 3. dwh compile, then dwh compile --check and dwh validate pass.
    compiled = run(repo, home, "compile")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    for wrote in (
        "include/sql/ddl/02_staging_tables.sql",
        "infra/stepfunctions/ecommerce_dwh.asl.json",
    ):
        assert f"wrote {wrote}" in compiled.stdout, compiled.stdout
    assert "include/pipelines/pipeline.schema.json" not in compiled.stdout
    for args in (("compile", "--check"), ("validate",)):
        checked = run(repo, home, *args)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    ddl = (repo / "include" / "sql" / "ddl" / "02_staging_tables.sql").read_text()
    assert "create table if not exists staging.shipments (" in ddl
    assert "    parcel_count integer,\n" in ddl and "    tracking_note varchar(1024),\n" in ddl
    machine = (repo / "infra" / "stepfunctions" / "ecommerce_dwh.asl.json").read_text()
    assert "clean_shipments" in machine and "staging.shipments" in machine
    assert (REPO / "include" / "glue" / "olist_contract.py").read_text().count("shipments") == 0
    # Spectrum's catalog of the processed data and the reject reasons follow the contract too.
    catalog = (repo / "infra" / "modules" / "glue" / "processed_tables.json").read_text()
    assert '"quarantine_shipments"' in catalog and '"shipments"' in catalog
    # The copy's own dwh.sql and contract render the reject reasons' view.
    rejects = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from dwh.sql import SAMPLE_CONTEXT, render; "
            "print(render(open(sys.argv[1]).read(), SAMPLE_CONTEXT))",
            str(repo / "include" / "sql" / "mart" / "operational.sql"),
        ],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                str(repo / p) for p in ("plugins", "tools", "include/glue")
            ),
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "from spectrum_processed.quarantine_shipments" in rejects
    # A hand edit of the generated DDL is drift.
    ddl_path = repo / "include" / "sql" / "ddl" / "02_staging_tables.sql"
    ddl_path.write_text(ddl.replace("    parcel_count integer,", "    parcel_count varchar(64),"))
    drift = run(repo, home, "compile", "--check")
    assert drift.returncode == 1
    assert "drift include/sql/ddl/02_staging_tables.sql" in drift.stderr
    ddl_path.write_text(ddl)

    # 4. Land a CSV of the new entity and run the small pipeline with the real Airflow DAG.
    data = tmp_path / "data"
    data.mkdir()
    (data / "fixture_shipments.csv").write_text(CSV)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "fixture_new_entity.py").write_text((repo / "dags" / "ecommerce_dwh.py").read_text())
    result = run(
        repo,
        home,
        "run",
        "--pipeline",
        "fixture_new_entity",
        "--data",
        str(data),
        "--ds",
        DS,
        env_extra={"AIRFLOW__CORE__DAGS_FOLDER": str(dags)},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "success load_shipments" in result.stdout

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select shipment_id, carrier, parcel_count, declared_value, ingest_date "
            "from staging.shipments order by shipment_id"
        ).fetchall()
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'staging' and table_name = 'shipments'"
            ).fetchall()
        )
        ledger = con.execute(
            "select rows_in, rows_out, rows_quarantined, rows_loaded from ops.load_log "
            "where entity = 'shipments' and ingest_date = ?",
            [DS],
        ).fetchall()
        checks = con.execute(
            "select check_name, status from ops.quality_results order by check_name"
        ).fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == ["s1", "s2", "s4"]
    assert rows[1][1] == "jadlog" and rows[1][2] == 2
    assert str(rows[0][4]) == DS
    assert types["parcel_count"] == "INTEGER" and types["declared_value"] == "DECIMAL(12,2)"
    assert ledger == [(4, 3, 1, 3)]
    assert ("reconciled_shipments", "pass") in checks
    assert ("shipments_unique", "pass") in checks
