"""The Glue job script end to end on local Spark: files in, Parquet + quarantine + metrics out.

Reconciliation holds for every entity and run: rows in = rows out + rows quarantined.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from olist_contract import ENTITIES
from olist_transforms import ContractError

from dwh import config
from dwh_tools.datagen import generate
from dwh_tools.landing import land
from dwh_tools.local_target.spark import get_spark, run_glue_script

DS = "2024-01-01"
SCRIPT = config.REPO_ROOT / "include" / "glue" / "clean_entity.py"
SHARED_OLIST = config.REPO_ROOT.parent / "shared" / "datasets" / "olist_sample"
SELLERS = ENTITIES["sellers"]


def run_job(tmp_path: Path, entity: str, ds: str = DS) -> dict:
    return run_glue_script(
        SCRIPT,
        {
            "--JOB_NAME": f"test.{entity}",
            "--entity": entity,
            "--ingest_date": ds,
            "--run_id": "test_run",
            "--raw_uri": str(tmp_path / "raw"),
            "--processed_uri": str(tmp_path / "processed"),
        },
    )


def write_raw(tmp_path: Path, entity: str, data: bytes) -> Path:
    folder = tmp_path / "raw" / entity / f"ingest_date={DS}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ENTITIES[entity].file_name
    path.write_bytes(data)
    return path


def processed_rows(tmp_path: Path, entity: str, ds: str = DS) -> list:
    spark = get_spark()
    return spark.read.parquet(str(tmp_path / "processed" / entity / f"ingest_date={ds}")).collect()


def test_a_latin1_file_keeps_its_accents(tmp_path):
    text = ",".join(SELLERS.column_names) + "\ns1,13023,são josé dos campos,SP\n"
    write_raw(tmp_path, "sellers", text.encode("latin-1"))
    metrics = run_job(tmp_path, "sellers")
    assert metrics["encoding"] == "ISO-8859-1"
    assert (metrics["rows_in"], metrics["rows_out"], metrics["rows_quarantined"]) == (1, 1, 0)
    (row,) = processed_rows(tmp_path, "sellers")
    assert row["seller_city"] == "são josé dos campos"


def test_a_utf8_file_with_a_byte_order_mark(tmp_path):
    text = ",".join(SELLERS.column_names) + "\ns1,13023,são paulo,SP\n"
    write_raw(tmp_path, "sellers", b"\xef\xbb\xbf" + text.encode("utf-8"))
    metrics = run_job(tmp_path, "sellers")
    assert metrics["encoding"] == "UTF-8" and metrics["rows_out"] == 1
    (row,) = processed_rows(tmp_path, "sellers")
    assert (row["seller_id"], row["seller_city"]) == ("s1", "são paulo")


@pytest.mark.parametrize(
    ("data", "note"),
    [(b"", "empty file"), ((",".join(SELLERS.column_names) + "\n").encode(), None)],
    ids=["empty", "header_only"],
)
def test_empty_and_header_only_files_give_an_empty_partition(tmp_path, data, note):
    write_raw(tmp_path, "sellers", data)
    metrics = run_job(tmp_path, "sellers")
    assert (metrics["rows_in"], metrics["rows_out"], metrics["rows_quarantined"]) == (0, 0, 0)
    assert metrics.get("note") == note
    assert processed_rows(tmp_path, "sellers") == []
    written = tmp_path / "processed" / "_metrics" / "sellers" / f"ingest_date={DS}" / "metrics.json"
    assert json.loads(written.read_text())["rows_in"] == 0


def test_a_missing_column_fails_the_job_naming_file_and_column(tmp_path):
    header = ["seller_id", "seller_zip_code_prefix", "city", "seller_state"]
    path = write_raw(tmp_path, "sellers", (",".join(header) + "\ns1,1,x,SP\n").encode())
    with pytest.raises(ContractError, match="missing column\\(s\\) seller_city") as err:
        run_job(tmp_path, "sellers")
    assert str(path) in str(err.value)


def test_reconciliation_on_generated_data_with_injected_defects(tmp_path):
    counts = generate(tmp_path / "raw", DS, scale=0.02, seed=11, defect_rate=0.05)
    rejected_somewhere = set()
    for entity in ENTITIES:
        m = run_job(tmp_path, entity)
        assert m["rows_in"] == counts[entity], entity  # every record written was read
        assert m["rows_in"] == m["rows_out"] + m["rows_quarantined"], entity
        rules = json.loads(m["rejected_by_rule"])
        assert sum(rules.values()) == m["rows_quarantined"], entity
        rejected_somewhere |= set(rules)
        if entity in ("orders", "order_items", "order_payments", "customers"):
            assert m["rows_quarantined"] > 0, entity
    assert {
        "malformed_row",
        "bad_timestamp",
        "unknown_enum",
        "negative_value",
        "bad_number",
        "required_missing",
        "duplicate_key",
    } <= rejected_somewhere
    # Every quarantined row carries its rule, reason and source line.
    bad = get_spark().read.parquet(
        str(tmp_path / "processed" / "_quarantine" / "orders" / f"ingest_date={DS}")
    )
    assert bad.filter("_rule is null or _reason is null or _source_line is null").count() == 0


@pytest.mark.skipif(not SHARED_OLIST.exists(), reason=f"{SHARED_OLIST} is absent")
def test_reconciliation_on_the_olist_sample(tmp_path):
    landed = land(SHARED_OLIST, tmp_path / "raw", DS)
    for entity in landed:
        m = run_job(tmp_path, entity)
        path = SHARED_OLIST / ENTITIES[entity].file_name
        with path.open(newline="", encoding="utf-8-sig") as fh:
            records = sum(1 for _ in csv.reader(fh)) - 1
        assert m["rows_in"] == records, entity
        assert m["rows_in"] == m["rows_out"] + m["rows_quarantined"], entity
