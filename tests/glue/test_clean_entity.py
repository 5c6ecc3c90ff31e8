"""The Glue job script end to end on local Spark: files in, Parquet + quarantine + metrics out.

Reconciliation holds for every entity and run: rows in = rows out + rows quarantined + blank rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from olist_contract import ENTITIES, ContractError, InvalidRunDate

from dwh import config
from dwh_tools.datagen import generate
from dwh_tools.landing import land
from dwh_tools.local_target.spark import get_spark, run_glue_script

DS = "2024-01-01"
SCRIPT = config.REPO_ROOT / "include" / "glue" / "clean_entity.py"
SHARED_OLIST = config.REPO_ROOT.parent / "shared" / "datasets" / "olist_sample"
SELLERS = ENTITIES["sellers"]


def run_job(
    tmp_path: Path, entity: str, ds: str = DS, formats: str = "{}", **optional: str
) -> dict:
    return run_glue_script(
        SCRIPT,
        {
            "--JOB_NAME": f"test.{entity}",
            "--entity": entity,
            "--ingest_date": ds,
            "--run_id": "test_run",
            "--raw_uri": str(tmp_path / "raw"),
            "--processed_uri": str(tmp_path / "processed"),
            "--formats": formats,
            **{f"--{k}": v for k, v in optional.items()},
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


def test_a_latin1_or_windows_1252_file_keeps_its_accents(tmp_path):
    text = ",".join(SELLERS.column_names) + "\ns1,13023,são josé dos campos,SP\n"
    write_raw(tmp_path, "sellers", text.encode("latin-1"))
    metrics = run_job(tmp_path, "sellers")
    assert metrics["encoding"] == "windows-1252"  # a superset of Latin-1
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
    [(b"", "empty file"), ((",".join(SELLERS.column_names) + "\n").encode(), "header only")],
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


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*") if f.is_file()}


@pytest.mark.parametrize("ds", ["x/../../customers", "2024-13-45", "2024-01-01' or '1'='1"])
def test_a_logical_date_that_is_not_a_date_is_refused_before_any_path(tmp_path, ds):
    """``x/../../customers`` as the sellers job's date would have replaced the customers data."""
    customers = tmp_path / "processed" / "customers"
    customers.mkdir(parents=True)
    (customers / "part-00000.parquet").write_bytes(b"the customers of every day")
    before = snapshot(tmp_path)
    with pytest.raises(InvalidRunDate, match="--ingest_date: logical date .* is not a"):
        run_job(tmp_path, "sellers", ds=ds)
    assert snapshot(tmp_path) == before


def sellers_partition(tmp_path: Path) -> Path:
    return tmp_path / "processed" / "sellers" / f"ingest_date={DS}"


def a_loaded_day_whose_raw_file_is_gone(tmp_path: Path) -> dict[str, bytes]:
    """The sellers of DS cleaned into processed, then the raw file removed (expired)."""
    raw = write_raw(tmp_path, "sellers", _csv(SELLERS.column_names, [["s1", "13023", "x", "SP"]]))
    assert run_job(tmp_path, "sellers")["rows_out"] == 1
    raw.unlink()
    return snapshot(tmp_path / "processed")


def test_a_missing_raw_file_does_not_replace_a_partition_that_holds_rows(tmp_path):
    before = a_loaded_day_whose_raw_file_is_gone(tmp_path)
    raw = tmp_path / "raw" / "sellers" / f"ingest_date={DS}" / SELLERS.file_name
    with pytest.raises(RuntimeError) as err:
        run_job(tmp_path, "sellers")
    assert type(err.value).__name__ == "MissingRawFile"
    message = str(err.value)
    for part in ("sellers", DS, str(raw), str(sellers_partition(tmp_path)), "--allow_empty true"):
        assert part in message
    assert snapshot(tmp_path / "processed") == before  # partition, quarantine, metrics untouched
    assert len(processed_rows(tmp_path, "sellers")) == 1


def test_allow_empty_replaces_the_partition_when_the_extract_is_empty_on_purpose(tmp_path):
    a_loaded_day_whose_raw_file_is_gone(tmp_path)
    metrics = run_job(tmp_path, "sellers", allow_empty="true")
    assert (metrics["rows_in"], metrics["rows_out"], metrics["note"]) == (0, 0, "no file")
    assert processed_rows(tmp_path, "sellers") == []


def test_allow_empty_takes_only_true_or_false(tmp_path):
    before = a_loaded_day_whose_raw_file_is_gone(tmp_path)
    with pytest.raises(ValueError, match="--allow_empty: 'yes' is not true or false"):
        run_job(tmp_path, "sellers", allow_empty="yes")
    assert snapshot(tmp_path / "processed") == before


def test_a_date_without_raw_file_or_partition_gets_an_empty_partition_again_and_again(tmp_path):
    # An incremental extract has no reference data most days: that is not an error, and a
    # re-run of such a day (its partition empty) is not either.
    for _ in range(2):
        metrics = run_job(tmp_path, "sellers")
        assert (metrics["rows_in"], metrics["rows_out"], metrics["note"]) == (0, 0, "no file")
        assert processed_rows(tmp_path, "sellers") == []
        written = json.loads(
            (
                tmp_path
                / "processed"
                / "_metrics"
                / "sellers"
                / f"ingest_date={DS}"
                / "metrics.json"
            ).read_text()
        )
        assert written["note"] == "no file"


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
        assert m["rows_in"] == m["rows_out"] + m["rows_quarantined"] + m["rows_blank"], entity
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
        assert m["rows_blank"] == 0, entity


ORDERS = ENTITIES["orders"]
ORDER_ROWS = [  # order_id .. order_estimated_delivery_date, as Olist writes them
    ["o1", "c1", "delivered", "2017-10-02 10:56:33", "", "", "2017-10-10 21:25:13", ""],
    ["o2", "c2", "shipped", "2017-11-18 19:28:06", "2017-11-18 19:45:59", "", "", ""],
    ["o3", "c3", "delivered", "2018-02-13 21:18:39", "", "", "", "2018-03-02 00:00:00"],
]


def _csv(header: list[str], rows: list[list[str]], sep: str = ",") -> bytes:
    return ("\n".join(sep.join(r) for r in [header, *rows]) + "\n").encode()


def _orders_loaded(tmp_path) -> dict[str, tuple]:
    return {
        r["order_id"]: (r["customer_id"], str(r["order_purchase_timestamp"]))
        for r in processed_rows(tmp_path, "orders")
    }


EXPECTED_ORDERS = {
    "o1": ("c1", "2017-10-02 10:56:33"),
    "o2": ("c2", "2017-11-18 19:28:06"),
    "o3": ("c3", "2018-02-13 21:18:39"),
}


@pytest.mark.parametrize("at", [0, 3, 8], ids=["first", "middle", "last"])
def test_an_added_column_anywhere_is_ignored_and_every_row_loads(tmp_path, at):
    header = list(ORDERS.column_names)
    header.insert(at, "sales_channel")
    rows = [[*r[:at], "web", *r[at:]] for r in ORDER_ROWS]
    write_raw(tmp_path, "orders", _csv(header, rows))
    m = run_job(tmp_path, "orders")
    assert (m["rows_in"], m["rows_out"], m["rows_quarantined"]) == (3, 3, 0)
    assert _orders_loaded(tmp_path) == EXPECTED_ORDERS
    assert "sales_channel" in json.loads(m["formats"])["notes"][0]


def test_columns_in_another_order_load_by_name(tmp_path):
    header = list(reversed(ORDERS.column_names))
    write_raw(tmp_path, "orders", _csv(header, [list(reversed(r)) for r in ORDER_ROWS]))
    m = run_job(tmp_path, "orders")
    assert (m["rows_out"], m["rows_quarantined"]) == (3, 0)
    assert _orders_loaded(tmp_path) == EXPECTED_ORDERS


def test_a_renamed_required_column_fails_naming_entity_file_and_column(tmp_path):
    header = ["order_id", "customer", *ORDERS.column_names[2:]]
    path = write_raw(tmp_path, "orders", _csv(header, ORDER_ROWS))
    with pytest.raises(ContractError) as err:
        run_job(tmp_path, "orders")
    text = str(err.value)
    assert text.startswith("contract violation: entity orders, file ")
    assert str(path) in text and "missing column(s) customer_id" in text


def test_blank_padding_rows_are_counted_and_dropped_not_quarantined(tmp_path):
    padding = [[""] * 8] * 20 + [[""] * 3, ['""', "", " "]]  # short and quoted blanks too
    rows = [ORDER_ROWS[0], *padding[:10], ORDER_ROWS[1], *padding[10:], ORDER_ROWS[2]]
    rows.append(["o4", "", "delivered", "2018-02-13 21:18:39", "", "", "", ""])  # a real reject
    write_raw(tmp_path, "orders", _csv(ORDERS.column_names, rows))
    m = run_job(tmp_path, "orders")
    assert (m["rows_in"], m["rows_blank"]) == (26, 22)
    assert (m["rows_out"], m["rows_quarantined"]) == (3, 1)
    assert json.loads(m["rejected_by_rule"]) == {"required_missing": 1}
    (bad,) = (
        get_spark()
        .read.parquet(str(tmp_path / "processed" / "_quarantine" / "orders" / f"ingest_date={DS}"))
        .collect()
    )
    assert bad["_source_line"] == 26  # record numbers still count the blank rows


def test_spreadsheet_timestamps_semicolons_and_windows_1252(tmp_path):
    def us(ts: str) -> str:  # 2017-10-02 10:56:33 -> 10/2/2017 10:56, as a spreadsheet saves it
        if not ts:
            return ""
        d, t = ts.split(" ")
        y, mo, da = d.split("-")
        return f"{int(mo)}/{int(da)}/{y} {int(t[:2])}:{t[3:5]}"

    rows = [[*r[:3], *(us(v) for v in r[3:])] for r in ORDER_ROWS]
    rows[0][1] = "cliente são"
    write_raw(tmp_path, "orders", _csv(ORDERS.column_names, rows, ";").decode().encode("cp1252"))
    m = run_job(tmp_path, "orders")
    detected = json.loads(m["formats"])
    assert (detected["delimiter"], detected["encoding"]) == (";", "windows-1252")
    assert detected["timestamp_formats"]["order_purchase_timestamp"] == "M/d/yyyy[ H:mm[:ss]]"
    assert (m["rows_out"], m["rows_quarantined"]) == (3, 0)
    assert _orders_loaded(tmp_path) == {
        "o1": ("cliente são", "2017-10-02 10:56:00"),
        "o2": ("c2", "2017-11-18 19:28:00"),
        "o3": ("c3", "2018-02-13 21:18:00"),
    }


def test_an_undecidable_day_month_order_fails_and_a_declared_format_loads(tmp_path):
    rows = [["o1", "c1", "delivered", "3/4/2018 10:00", "", "", "", ""]]
    write_raw(tmp_path, "orders", _csv(ORDERS.column_names, rows))
    with pytest.raises(ContractError, match="day/month order cannot be decided") as err:
        run_job(tmp_path, "orders")
    assert "ingest.entities.orders.timestamp_format" in str(err.value)
    m = run_job(tmp_path, "orders", formats=json.dumps({"timestamp_format": "d/M/yyyy H:mm"}))
    assert m["rows_out"] == 1
    assert _orders_loaded(tmp_path) == {"o1": ("c1", "2018-04-03 10:00:00")}


@pytest.mark.skipif(not SHARED_OLIST.exists(), reason=f"{SHARED_OLIST} is absent")
def test_a_spreadsheet_export_of_the_olist_sample_loads_every_row_the_original_does(tmp_path):
    from spreadsheet import export

    original, exported = tmp_path / "original", tmp_path / "exported"
    facts = export(SHARED_OLIST, tmp_path / "export")
    for entity, fact in facts.items():
        name = ENTITIES[entity].file_name
        for root, source in ((original, SHARED_OLIST / name), (exported, tmp_path / "export")):
            folder = root / "raw" / entity / f"ingest_date={DS}"
            folder.mkdir(parents=True)
            data = source.read_bytes() if root is original else (source / fact["file"]).read_bytes()
            (folder / name).write_bytes(data)
    for entity, fact in facts.items():
        before, after = run_job(original, entity), run_job(exported, entity)
        assert after["rows_blank"] == fact["blank"], entity
        assert after["rows_in"] == fact["records"] + fact["blank"], entity
        if fact["records"] == 0:  # the emptied file: nothing in, nothing lost, and said so
            assert (after["rows_out"], after["note"]) == (0, "empty file"), entity
            continue
        # Every row the original loads, the export loads: same keys, same rules broken.
        assert (after["rows_out"], after["rejected_by_rule"]) == (
            before["rows_out"],
            before["rejected_by_rule"],
        ), entity
    orders = {r["order_id"]: r for r in processed_rows(exported, "orders")}
    first = orders["e481f51cbdc54678b7cc49136f2d6af7"]  # 2017-10-02 10:56:33 in the original
    assert str(first["order_purchase_timestamp"]) == "2017-10-02 10:56:00"


def test_the_head_read_through_hadoop_is_the_same_bytes_as_a_local_read(tmp_path):
    """On Glue the raw file is an s3:// URI, read through Hadoop; locally it is a path. Both give
    the file's first HEAD_BYTES bytes, whatever they are (every byte value, line ends, NUL)."""
    import clean_entity
    from olist_formats import HEAD_BYTES

    data = bytes(range(256)) * (HEAD_BYTES // 256 + 7)  # longer than the head
    path = tmp_path / "any.csv"
    path.write_bytes(data)
    spark = get_spark()
    local = clean_entity._head(spark, str(path))
    through_hadoop = clean_entity._head(spark, path.as_uri())
    assert len(local) == HEAD_BYTES
    assert through_hadoop == local == data[:HEAD_BYTES]
