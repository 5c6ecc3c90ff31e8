"""The sample-data generator: Olist's shape and size, its distributions, increments and defects."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from olist_contract import ENTITIES, ORDER_STATUSES, PAYMENT_TYPES

from dwh_tools.datagen import generate
from dwh_tools.landing import land

DS = "2024-01-01"


def read(raw: Path, entity: str, ds: str = DS) -> pd.DataFrame:
    path = raw / entity / f"ingest_date={ds}" / ENTITIES[entity].file_name
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def digest(raw: Path) -> dict[str, str]:
    return {
        str(p.relative_to(raw)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(raw.rglob("*.csv"))
    }


@pytest.fixture(scope="module")
def olist_size(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("scale1") / "raw"
    return raw, generate(raw, DS, scale=1, seed=3)


def test_scale_1_is_the_size_of_the_real_olist_data(olist_size):
    raw, counts = olist_size
    assert counts["orders"] == 99_441
    assert 110_000 <= counts["order_items"] <= 116_000
    assert counts["products"] == 32_951 and counts["sellers"] == 3_095
    customers = read(raw, "customers")
    assert len(customers) == 99_441  # Olist: one customer_id per order
    assert 95_000 <= customers["customer_unique_id"].nunique() <= 97_000
    for entity in ENTITIES.values():  # Olist's file stems and column names, in order
        path = raw / entity.name / f"ingest_date={DS}" / entity.file_name
        with path.open(newline="") as fh:
            assert next(csv.reader(fh)) == entity.column_names


def test_distributions_follow_olist(olist_size):
    raw, _ = olist_size
    orders = read(raw, "orders")
    purchased = pd.to_datetime(orders["order_purchase_timestamp"])
    assert orders["order_status"].value_counts(normalize=True)["delivered"] > 0.95
    assert set(orders["order_status"]) <= set(ORDER_STATUSES)
    # Black Friday week is the busiest of the year; weekends are quieter than weekdays.
    week = purchased.dt.isocalendar().week
    whole_year = purchased.dt.year == 2023  # the last calendar year before DS, all in the history
    busiest = purchased[whole_year].groupby(week).size().idxmax()
    assert busiest in (47, 48)
    per_day = purchased.dt.dayofweek.value_counts(normalize=True)
    assert per_day[[5, 6]].mean() < per_day[[0, 1, 2, 3, 4]].mean() * 0.85

    payments = read(raw, "order_payments")["payment_type"].value_counts(normalize=True)
    assert 0.70 < payments["credit_card"] < 0.78 and 0.15 < payments["boleto"] < 0.22
    assert set(payments.index) <= set(PAYMENT_TYPES)

    reviews = read(raw, "order_reviews")
    scores = reviews["review_score"].astype(int).value_counts(normalize=True)
    assert scores.idxmax() == 5 and scores[5] > 0.5 and scores[1] > scores[2]
    # Late deliveries get lower scores.
    delivered = orders[orders["order_delivered_customer_date"] != ""]
    late = pd.to_datetime(delivered["order_delivered_customer_date"]) > pd.to_datetime(
        delivered["order_estimated_delivery_date"]
    )
    late_ids = set(delivered.loc[late, "order_id"])
    r = reviews.assign(
        late=reviews["order_id"].isin(late_ids), s=reviews["review_score"].astype(int)
    )
    assert r.loc[r["late"], "s"].mean() < r.loc[~r["late"], "s"].mean() - 0.5

    items = read(raw, "order_items")
    per_order = items.groupby("order_id").size()
    assert (per_order == 1).mean() > 0.8
    repeaters = read(raw, "customers").groupby("customer_unique_id").size()
    assert 0.01 < (repeaters > 1).mean() < 0.06


def test_the_full_extracts_history_ends_on_its_logical_date(olist_size, tmp_path):
    raw, _ = olist_size
    purchased = pd.to_datetime(read(raw, "orders")["order_purchase_timestamp"])
    assert purchased.max().date().isoformat() == DS
    assert purchased.min().date().isoformat() == "2022-02-01"  # 700 days, DS included
    # Every month of the history has orders, so each has a month before it to grow from.
    months = purchased.dt.to_period("M")
    assert list(months.drop_duplicates().sort_values()) == list(
        pd.period_range("2022-02", "2024-01", freq="M")
    )
    # The same for any logical date: the history moves with it.
    generate(tmp_path, "2019-06-15", scale=0.05, seed=3)
    other = pd.to_datetime(read(tmp_path, "orders", "2019-06-15")["order_purchase_timestamp"])
    assert other.max().date().isoformat() == "2019-06-15"
    assert "2017-07-16" <= other.min().date().isoformat() <= "2017-07-22"  # 700 days before


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    generate(tmp_path / "a", DS, scale=0.01, seed=1)
    generate(tmp_path / "b", DS, scale=0.01, seed=1)
    generate(tmp_path / "c", DS, scale=0.01, seed=2)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_a_day_increment_brings_that_days_orders_and_moved_returning_customers(tmp_path):
    raw = tmp_path / "raw"
    generate(raw, DS, scale=0.1, seed=5, day=0)
    counts = generate(raw, "2024-01-02", scale=0.1, seed=5, day=1)
    orders = read(raw, "orders", "2024-01-02")
    assert counts["orders"] == len(orders) < counts["order_items"]
    assert set(orders["order_purchase_timestamp"].str[:10]) == {"2024-01-02"}
    # Reference data (geolocation, category names) comes with the full extract only.
    assert "geolocation" not in counts and "product_category_name_translation" not in counts
    first = read(raw, "customers").drop_duplicates("customer_unique_id")
    later = read(raw, "customers", "2024-01-02")
    back = later.merge(first, on="customer_unique_id", suffixes=("", "_before"))
    assert len(back) > 0  # returning customers
    moved = back[back["customer_city"] != back["customer_city_before"]]
    assert 0 < len(moved) < len(back)  # some of them moved: a new SCD2 version downstream


def test_defects_are_injected_at_the_asked_rate(tmp_path):
    raw = tmp_path / "raw"
    clean = generate(tmp_path / "clean", DS, scale=0.05, seed=9)
    spoilt = generate(raw, DS, scale=0.05, seed=9, defect_rate=0.04)
    orders = read(raw, "orders")
    k = round(clean["orders"] * 0.04 / 4)
    assert (orders["order_purchase_timestamp"] == "2017-02-30 10:00:00").sum() == k
    assert (orders["order_status"] == "lost_in_transit").sum() == k
    assert orders["order_id"].duplicated().sum() >= k
    items = read(raw, "order_items")
    assert items["price"].str.startswith("-").sum() > 0
    assert (items["freight_value"] == "12,50").sum() > 0
    assert (read(raw, "order_payments")["payment_type"] == "pix").sum() > 0
    assert (read(raw, "customers")["customer_id"] == "").sum() > 0
    # Records with a wrong column count are counted too: nothing is written without a trace.
    for name, n in spoilt.items():
        path = raw / name / f"ingest_date={DS}" / ENTITIES[name].file_name
        with path.open(newline="") as fh:
            assert sum(1 for _ in csv.reader(fh)) - 1 == n, name
    assert spoilt["orders"] == clean["orders"] + 2 * k  # duplicates and malformed lines added


def test_scale_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="scale must be > 0"):
        generate(tmp_path, DS, scale=0)


def test_land_copies_olist_files_and_refuses_other_names(tmp_path):
    src = tmp_path / "src"
    generate(tmp_path / "gen", DS, scale=0.01, seed=1)
    src.mkdir()
    for entity in ("orders", "customers"):
        path = tmp_path / "gen" / entity / f"ingest_date={DS}" / ENTITIES[entity].file_name
        (src / path.name).write_bytes(path.read_bytes())
    counts = land(src, tmp_path / "raw", "2024-02-01")
    assert counts == {"orders": 994, "customers": 994}
    landed = tmp_path / "raw" / "orders" / "ingest_date=2024-02-01" / "olist_orders_dataset.csv"
    assert landed.read_bytes() == (src / "olist_orders_dataset.csv").read_bytes()

    (src / "orders_export.csv").write_text("a,b\n")
    with pytest.raises(ValueError, match="orders_export.csv"):
        land(src, tmp_path / "raw", "2024-02-02")
    assert not (tmp_path / "raw" / "orders" / "ingest_date=2024-02-02").exists()


def test_a_contract_entity_without_a_generator_gets_valid_rows(tmp_path, monkeypatch):
    """Adding an entity to the contract is enough for sample data: every row passes the rules."""
    import olist_contract as oc
    from olist_transforms import clean, read_raw

    from dwh_tools import datagen
    from dwh_tools.local_target.spark import get_spark

    shipments = oc.Entity(
        "shipments",
        "fixture_shipments",
        (
            oc.Column("shipment_id", oc.STRING, required=True),
            oc.Column("order_id", oc.STRING, required=True),
            oc.Column("carrier", oc.STRING, accepted=("correios", "jadlog")),
            oc.Column("parcel_count", oc.INT, min_value=1),
            oc.Column("weight_kg", oc.DOUBLE, min_value=0, max_value=50),
            oc.Column("declared_value", oc.DECIMAL, min_value=0),
            oc.Column("shipped_at", oc.TIMESTAMP),
            oc.Column("delivered_at", oc.TIMESTAMP),
        ),
        natural_key=("shipment_id",),
        timestamp_order=(("shipped_at", "delivered_at"),),
    )
    monkeypatch.setitem(datagen.ENTITIES, "shipments", shipments)
    counts = generate(tmp_path, DS, scale=0.01, seed=1)
    assert counts["shipments"] >= 5
    assert counts["orders"] == generate(tmp_path / "again", DS, scale=0.01, seed=1)["orders"]
    path = tmp_path / "shipments" / f"ingest_date={DS}" / "fixture_shipments.csv"
    with path.open() as fh:
        assert next(csv.reader(fh)) == shipments.column_names
    good, bad = clean(shipments, read_raw(get_spark(), shipments, str(path)))
    assert bad.count() == 0, bad.select("_rule", "_reason").collect()
    assert good.count() == counts["shipments"]
