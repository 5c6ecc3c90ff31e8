"""Landing your own files: by Olist name, else by header; nothing lands unless every file does."""

from __future__ import annotations

from pathlib import Path

import pytest
from olist_contract import ENTITIES

from dwh_tools.errors import UserError
from dwh_tools.landing import land

DS = "2024-03-01"


def csv_text(columns: list[str], rows: int, delimiter: str = ",") -> str:
    lines = [delimiter.join(columns)]
    lines += [delimiter.join(f"{c}_{i}" for c in columns) for i in range(rows)]
    return "\n".join(lines) + "\n"


def header_of(entity: str, delimiter: str = ",") -> str:
    return csv_text(ENTITIES[entity].column_names, 3, delimiter)


def landed_files(raw: Path) -> list[str]:
    return sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file())


@pytest.fixture
def folder(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    return src


def test_a_file_with_another_name_lands_as_the_entity_its_header_holds(folder, tmp_path):
    (folder / "olistcustomerdataset.csv").write_text(header_of("customers"))
    (folder / ENTITIES["orders"].file_name).write_text(header_of("orders"))
    raw = tmp_path / "raw"
    landed = land(folder, raw, DS)
    assert landed_files(raw) == [
        f"customers/ingest_date={DS}/olist_customers_dataset.csv",
        f"orders/ingest_date={DS}/olist_orders_dataset.csv",
    ]
    copied = raw / "customers" / f"ingest_date={DS}" / "olist_customers_dataset.csv"
    assert copied.read_bytes() == (folder / "olistcustomerdataset.csv").read_bytes()
    assert [" ".join(line.split()) for line in landed.lines()] == [
        "olist_orders_dataset.csv -> orders 3 rows",
        "olistcustomerdataset.csv -> customers (matched by header) 3 rows",
    ]
    assert dict(landed) == {"customers": 3, "orders": 3}


def test_extra_columns_and_another_order_still_match(folder, tmp_path):
    columns = list(reversed(ENTITIES["sellers"].column_names)) + ["exported_at"]
    (folder / "Sellers (1).csv").write_text(csv_text(columns, 2))
    (entry,) = land(folder, tmp_path / "raw", DS).files
    assert (entry.entity, entry.by_header) == ("sellers", True)


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "utf-8-sig"), ("\t", "utf-8"), ("|", "cp1252")],
    ids=["semicolon-bom", "tab", "pipe-windows-1252"],
)
def test_delimiters_bom_and_windows_1252_headers_match(folder, tmp_path, delimiter, encoding):
    text = header_of("sellers", delimiter).replace("seller_city_0", "São Paulo")
    (folder / "vendedores.csv").write_bytes(text.encode(encoding))
    (entry,) = land(folder, tmp_path / "raw", DS).files
    assert (entry.source, entry.entity, entry.by_header) == ("vendedores.csv", "sellers", True)
    copied = tmp_path / "raw" / "sellers" / f"ingest_date={DS}" / "olist_sellers_dataset.csv"
    assert copied.read_bytes() == text.encode(encoding)  # landed as written, read by the crawler


def test_a_header_matching_no_entity_names_the_closest_and_its_missing_columns(folder, tmp_path):
    columns = [c for c in ENTITIES["orders"].column_names if c != "order_status"]
    (folder / "orders_export.csv").write_text(csv_text(columns, 2))
    (folder / ENTITIES["customers"].file_name).write_text(header_of("customers"))
    with pytest.raises(UserError) as caught:
        land(folder, tmp_path / "raw", DS)
    message = str(caught.value)
    assert "orders_export.csv: its header matches no entity" in message
    assert "closest is orders (7 of 8 columns), missing order_status" in message
    assert not (tmp_path / "raw").exists()  # the good file was not landed either


def test_a_header_of_no_contract_column_says_to_name_the_file_as_olist_does(folder, tmp_path):
    (folder / "report.csv").write_text("a;b\n1;2\n")
    with pytest.raises(UserError, match=r"report\.csv: its header \(a, b; delimiter ';'\)"):
        land(folder, tmp_path / "raw", DS)


def test_a_header_holding_two_entities_is_refused_with_both_names(folder, tmp_path):
    columns = ENTITIES["products"].column_names + ["product_category_name_english"]
    (folder / "catalogue.csv").write_text(csv_text(columns, 2))
    with pytest.raises(UserError) as caught:
        land(folder, tmp_path / "raw", DS)
    message = str(caught.value)
    assert "catalogue.csv: its header holds the columns of 2 entities" in message
    assert "olist_products_dataset.csv or product_category_name_translation.csv" in message
    assert not (tmp_path / "raw").exists()


def test_two_files_for_one_entity_are_refused_naming_both(folder, tmp_path):
    (folder / "customers_today.csv").write_text(header_of("customers"))
    (folder / ENTITIES["customers"].file_name).write_text(header_of("customers"))
    with pytest.raises(UserError) as caught:
        land(folder, tmp_path / "raw", DS)
    assert (
        "2 files for customers: customers_today.csv (by header), "
        "olist_customers_dataset.csv (by name)" in str(caught.value)
    )
    assert not (tmp_path / "raw").exists()


def test_an_empty_file_with_another_name_cannot_be_matched(folder, tmp_path):
    (folder / "Customers (1).csv").write_bytes(b"")
    with pytest.raises(UserError) as caught:
        land(folder, tmp_path / "raw", DS)
    message = str(caught.value)
    assert "Customers (1).csv: empty file" in message
    assert "name it as Olist does" in message and "olist_customers_dataset.csv" in message


def test_an_empty_or_header_only_olist_file_lands_by_its_name(folder, tmp_path):
    (folder / ENTITIES["sellers"].file_name).write_bytes(b"")
    (folder / ENTITIES["orders"].file_name).write_text(",".join(ENTITIES["orders"].column_names))
    landed = land(folder, tmp_path / "raw", DS)
    assert dict(landed) == {"sellers": 0, "orders": 0}
    assert not any(f.by_header for f in landed.files)


def test_rows_are_physical_lines_minus_the_header_blank_padding_included(folder, tmp_path):
    (folder / "clientes.csv").write_text(header_of("customers") + "\n\n")
    assert dict(land(folder, tmp_path / "raw", DS)) == {"customers": 5}


def test_relanding_a_date_replaces_its_files(folder, tmp_path):
    raw = tmp_path / "raw"
    (folder / "a.csv").write_text(header_of("customers"))
    land(folder, raw, DS)
    (folder / "a.csv").unlink()
    (folder / "b.csv").write_text(csv_text(ENTITIES["customers"].column_names, 1))
    assert dict(land(folder, raw, DS)) == {"customers": 1}
    assert landed_files(raw) == [f"customers/ingest_date={DS}/olist_customers_dataset.csv"]


def test_a_folder_that_cannot_be_landed_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        land(tmp_path / "missing", tmp_path / "raw", DS)
    a_file = tmp_path / "customers.csv"
    a_file.write_text(header_of("customers"))
    with pytest.raises(UserError, match="not a folder"):
        land(a_file, tmp_path / "raw", DS)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("x")
    with pytest.raises(UserError, match=r"no \.csv files"):
        land(tmp_path / "notes", tmp_path / "raw", DS)


@pytest.mark.parametrize(
    ("ds", "points_at"),
    [
        ("../x", "lake/raw/customers/ingest_date=../x"),
        ("2024-01-01/../../y", "lake/raw/y"),
        ("2024-01-01/../../../../y", "y"),  # outside the lake
        ("2024-02-30", None),
        ("", None),
    ],
)
def test_a_logical_date_that_is_not_a_real_date_is_refused_and_nothing_is_touched(
    folder, tmp_path, ds, points_at
):
    raw = tmp_path / "lake" / "raw"
    # An earlier landing: with it, a date holding ".." walks up from raw/customers.
    earlier = raw / "customers" / "ingest_date=2024-01-01" / ENTITIES["customers"].file_name
    earlier.parent.mkdir(parents=True)
    earlier.write_text("earlier")
    if points_at:  # what removing and recreating the date's folder would have destroyed
        sentinel = tmp_path / points_at / "keep.txt"
        sentinel.parent.mkdir(parents=True)
        sentinel.write_text("mine")
    (folder / ENTITIES["customers"].file_name).write_text(header_of("customers"))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(UserError, match="is not a (real )?date") as caught:
        land(folder, raw, ds)
    assert "\n" not in str(caught.value)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert earlier.read_text() == "earlier"
    if points_at:
        assert sentinel.read_text() == "mine"


def test_an_entity_folder_linked_outside_the_raw_area_is_refused_and_left_alone(folder, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / f"ingest_date={DS}").mkdir(parents=True)
    (elsewhere / f"ingest_date={DS}" / "keep.txt").write_text("mine")
    (raw / "customers").symlink_to(elsewhere, target_is_directory=True)
    (folder / ENTITIES["customers"].file_name).write_text(header_of("customers"))
    with pytest.raises(UserError, match="outside the raw area"):
        land(folder, raw, DS)
    assert (elsewhere / f"ingest_date={DS}" / "keep.txt").read_text() == "mine"


def test_a_symlinked_csv_is_refused_naming_it_and_nothing_lands(folder, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(header_of("customers"))
    (folder / ENTITIES["customers"].file_name).symlink_to(secret)
    (folder / ENTITIES["orders"].file_name).write_text(header_of("orders"))
    raw = tmp_path / "raw"
    with pytest.raises(UserError, match="olist_customers_dataset.csv: a symbolic link"):
        land(folder, raw, DS)
    assert not raw.exists()
