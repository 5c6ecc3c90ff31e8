"""Format detection (olist_formats): what the first bytes of a real export prove about it."""

from __future__ import annotations

import pytest
from olist_contract import ENTITIES, ContractError
from olist_formats import DAY_FIRST, ISO, ISO_T, MONTH_FIRST, detect, read_header

ORDERS = ENTITIES["orders"]
ITEMS = ENTITIES["order_items"]


def orders_file(purchase: list[str], sep: str = ",", header: list[str] | None = None) -> bytes:
    lines = [sep.join(header or ORDERS.column_names)]
    for i, ts in enumerate(purchase):
        lines.append(sep.join([f"o{i}", f"c{i}", "delivered", ts, "", "", "", ""]))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("values", "layout"),
    [
        (["2017-10-02 10:56:33", "2018-01-13 09:00:00"], ISO),
        (["2017-10-02 10:56", "2018-01-13 09:00"], ISO),  # no seconds
        (["2017-10-02T10:56:33", "2018-01-13T09:00:00"], ISO_T),
        (["10/2/2017 10:56", "1/13/2018 9:00"], MONTH_FIRST),  # 13 can only be a day
        (["2/10/2017 10:56:33", "13/1/2018 9:00:00"], DAY_FIRST),
    ],
    ids=["iso", "iso_no_seconds", "iso_t", "month_first", "day_first"],
)
def test_timestamp_layouts_are_told_apart_by_their_values(values, layout):
    formats = detect(ORDERS, orders_file(values), "f.csv")
    assert formats.timestamp_formats["order_purchase_timestamp"] == layout
    # An empty column of the same file gets the default layout and parses nothing wrongly.
    assert formats.timestamp_formats["order_approved_at"] == ISO


def test_day_month_order_proven_by_another_column_of_the_file_decides_for_all():
    rows = ["o1,c1,delivered,3/4/2018 10:00,,,4/25/2018 10:00,"]  # 25 proves month-first
    data = (",".join(ORDERS.column_names) + "\n" + "\n".join(rows) + "\n").encode()
    formats = detect(ORDERS, data, "f.csv")
    assert formats.timestamp_formats["order_purchase_timestamp"] == MONTH_FIRST
    assert formats.timestamp_formats["order_delivered_customer_date"] == MONTH_FIRST


def test_undecidable_or_contradictory_day_month_order_asks_for_the_format():
    with pytest.raises(ContractError) as err:
        detect(ORDERS, orders_file(["3/4/2018 10:00", "5/6/2018 11:00"]), "raw/orders.csv")
    assert str(err.value) == (
        "contract violation: entity orders, file raw/orders.csv: column(s) "
        "order_purchase_timestamp: day/month order cannot be decided from the sampled values "
        "(every day and month is <= 12); set ingest.entities.orders.timestamp_format in the "
        f"pipeline file to '{MONTH_FIRST}' or '{DAY_FIRST}'"
    )
    with pytest.raises(ContractError, match="both day-first and month-first"):
        detect(ORDERS, orders_file(["13/4/2018 10:00", "4/13/2018 10:00"]), "f.csv")
    declared = detect(ORDERS, orders_file(["3/4/2018 10:00"]), "f", {"timestamp_format": "d/M"})
    assert declared.timestamp_formats["order_purchase_timestamp"] == "d/M"


def test_a_timestamp_column_of_no_known_layout_is_a_contract_violation():
    with pytest.raises(ContractError, match="column order_purchase_timestamp is a timestamp"):
        detect(ORDERS, orders_file(["yesterday", "today", "2018-01-01 10:00:00"]), "f.csv")


def test_a_numeric_column_that_is_mostly_text_is_a_contract_violation():
    header = ",".join(ITEMS.column_names)
    rows = ["o1,1,p1,s1,2017-10-06 11:07:15,R$ 58,13.29", "o2,1,p1,s1,,R$ 9,1.0"]
    with pytest.raises(ContractError, match="column price is decimal.*2 of 2 sampled values"):
        detect(ITEMS, (header + "\n" + "\n".join(rows) + "\n").encode(), "f.csv")


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_delimiter_is_the_one_that_splits_the_header_into_contract_columns(sep):
    formats = detect(ORDERS, orders_file(["2017-10-02 10:56:33"], sep), "f.csv")
    assert formats.delimiter == sep and formats.header == ORDERS.column_names


def test_encodings_byte_order_marks_and_header_spelling():
    header = [f" {c.upper()} " for c in ORDERS.column_names]  # spreadsheet-style spelling
    data = orders_file(["2017-10-02 10:56:33"], header=header)
    assert read_header(b"\xef\xbb\xbf" + data)[0] == ORDERS.column_names
    assert detect(ORDERS, b"\xef\xbb\xbf" + data, "f").encoding == "UTF-8"
    accented = data.decode().replace("c0", "são").encode("cp1252")
    assert detect(ORDERS, accented, "f").encoding == "windows-1252"
    utf16 = data.decode().encode("utf-16")
    assert read_header(utf16) == (ORDERS.column_names, ",", "UTF-16")


def test_a_missing_column_names_it_and_what_the_header_has():
    header = [c for c in ORDERS.column_names if c != "order_status"] + ["status"]
    with pytest.raises(ContractError) as err:
        detect(ORDERS, orders_file([], header=header), "raw/orders.csv")
    assert "entity orders, file raw/orders.csv: missing column(s) order_status" in str(err.value)
    assert "header has: order_id, customer_id, order_purchase_timestamp" in str(err.value)
