"""The local crawler: versioned schemas, tolerated added columns, failing incompatible drift."""

from __future__ import annotations

import json

import pytest
from olist_contract import ENTITIES

from dwh_tools.local_target.crawler import SchemaDriftError, crawl

DS = "2024-01-01"
SELLERS = ENTITIES["sellers"]
ORDERS = ENTITIES["orders"]


def land(raw, entity, header: list[str], rows: list[list[str]], ds=DS, encoding="utf-8"):
    folder = raw / entity.name / f"ingest_date={ds}"
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    (folder / entity.file_name).write_bytes(text.encode(encoding))
    return folder / entity.file_name


def sellers_rows(city="campinas"):
    return [["s1", "13023", city, "SP"], ["s2", "01001", "sao paulo", "SP"]]


def versions(catalog, entity):
    return sorted(p.name for p in (catalog / entity).glob("v*.json"))


def test_first_crawl_records_types_and_a_rerun_adds_no_version(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    land(raw, SELLERS, SELLERS.column_names, sellers_rows())
    report = crawl(raw, catalog, DS, ["sellers", "orders"])
    assert report["orders"] == {"absent": True}
    assert report["sellers"]["version"] == 1 and report["sellers"]["drift"] == []
    v1 = json.loads((catalog / "sellers" / "v1.json").read_text())
    assert v1["schema"] == {
        "columns": {  # a contract column has the contract's type: zip prefixes stay text
            "seller_id": "string",
            "seller_zip_code_prefix": "string",
            "seller_city": "string",
            "seller_state": "string",
        },
        "encoding": "UTF-8",
        "delimiter": ",",
        "quote": '"',
        "timestamp_formats": {},
    }
    assert crawl(raw, catalog, DS, ["sellers"])["sellers"]["version"] == 1
    assert versions(catalog, "sellers") == ["v1.json"]


def test_an_added_column_is_recorded_as_a_new_version_and_tolerated(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    land(raw, SELLERS, SELLERS.column_names, sellers_rows())
    crawl(raw, catalog, DS, ["sellers"])
    land(
        raw,
        SELLERS,
        [*SELLERS.column_names, "seller_rating"],
        [[*r, "4.5"] for r in sellers_rows()],
        ds="2024-01-02",
    )
    report = crawl(raw, catalog, "2024-01-02", ["sellers"])["sellers"]
    assert report["version"] == 2
    assert report["drift"] == [
        "added column(s) seller_rating: not in the contract, ignored",
        "schema changed since v1",
    ]
    v2 = json.loads((catalog / "sellers" / "v2.json").read_text())
    assert v2["first_seen"] == "2024-01-02"
    assert v2["schema"]["columns"]["seller_rating"] == "double"
    assert versions(catalog, "sellers") == ["v1.json", "v2.json"]


def test_a_missing_or_renamed_column_fails_naming_entity_file_and_column(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    header = ["seller_id", "seller_zip", "seller_city", "seller_state"]  # renamed zip column
    path = land(raw, SELLERS, header, sellers_rows())
    with pytest.raises(SchemaDriftError) as err:
        crawl(raw, catalog, DS, ["sellers"])
    assert str(err.value) == (
        f"contract violation: entity sellers, file {path}: missing column(s) "
        "seller_zip_code_prefix required by the contract "
        "(header has: seller_id, seller_zip, seller_city, seller_state)"
    )
    assert not (catalog / "sellers").exists()  # nothing recorded for a rejected schema


def test_an_incompatible_type_fails_naming_the_column(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    row = ["o1", "c1", "delivered", "yesterday", "", "", "", ""]
    path = land(raw, ORDERS, ORDERS.column_names, [row, [*row[:3], "today", *row[4:]]])
    with pytest.raises(SchemaDriftError, match="column order_purchase_timestamp is a timest") as e:
        crawl(raw, catalog, DS, ["orders"])
    assert f"entity orders, file {path}" in str(e.value)
    assert "fit no known layout (e.g. 'yesterday')" in str(e.value)


def test_a_few_bad_values_are_left_to_the_glue_job(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    good = ["o1", "c1", "delivered", "2018-01-01 10:00:00", "", "", "", ""]
    bad = ["o2", "c2", "delivered", "2018-02-30 10:00:00", "", "", "", ""]
    land(raw, ORDERS, ORDERS.column_names, [good, good, bad])
    report = crawl(raw, catalog, DS, ["orders"])["orders"]
    assert report["version"] == 1 and report["rows_sampled"] == 3


def test_latin1_and_bom_files_are_read_and_their_encoding_recorded(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    land(raw, SELLERS, SELLERS.column_names, sellers_rows("são josé"), encoding="latin-1")
    assert crawl(raw, catalog, DS, ["sellers"])["sellers"]["version"] == 1
    schema = json.loads((catalog / "sellers" / "v1.json").read_text())["schema"]
    assert schema["encoding"] == "windows-1252"

    header = ["\ufeff" + SELLERS.column_names[0], *SELLERS.column_names[1:]]
    land(raw, SELLERS, header, sellers_rows(), ds="2024-01-02")
    report = crawl(raw, catalog, "2024-01-02", ["sellers"])["sellers"]
    # The BOM is not part of the first column's name; only the encoding changed.
    assert report["drift"] == []
    assert report["version"] == 2
    v2 = json.loads((catalog / "sellers" / "v2.json").read_text())["schema"]
    assert v2 == {**schema, "encoding": "UTF-8"}


def test_an_empty_file_is_reported_not_versioned(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    folder = raw / "sellers" / f"ingest_date={DS}"
    folder.mkdir(parents=True)
    (folder / SELLERS.file_name).write_bytes(b"")
    report = crawl(raw, catalog, DS, ["sellers"])["sellers"]
    assert report["note"] == "empty file" and report["rows_sampled"] == 0
    assert not (catalog / "sellers").exists()


def test_detected_formats_are_recorded_and_every_broken_file_is_named_at_once(tmp_path):
    raw, catalog = tmp_path / "raw", tmp_path / "catalog"
    us = ["o1", "c1", "delivered", "10/2/2017 10:56", "", "", "10/15/2017 9:00", ""]
    land(raw, ORDERS, ORDERS.column_names, [us])
    report = crawl(raw, catalog, DS, ["orders"])["orders"]
    schema = json.loads((catalog / "orders" / "v1.json").read_text())["schema"]
    assert schema["timestamp_formats"]["order_purchase_timestamp"] == "M/d/yyyy[ H:mm[:ss]]"
    assert json.loads(report["formats"])["timestamp_formats"] == schema["timestamp_formats"]

    land(raw, ORDERS, ORDERS.column_names, [[*us[:3], "3/4/2018 10:00", *us[4:6], "", ""]])
    land(raw, SELLERS, ["seller_id", "seller_city", "seller_state"], [["s1", "x", "SP"]])
    with pytest.raises(SchemaDriftError) as err:
        crawl(raw, catalog, DS, ["orders", "sellers"])
    first, second = str(err.value).removeprefix("contract violation: ").split("\n")
    assert first.startswith("entity orders") and "day/month order cannot be decided" in first
    assert second.startswith("entity sellers") and "seller_zip_code_prefix" in second
    # The pipeline file's declared format settles it.
    declared = {"orders": {"timestamp_format": "d/M/yyyy H:mm"}}
    assert crawl(raw, catalog, DS, ["orders"], declared)["orders"]["version"] == 2
