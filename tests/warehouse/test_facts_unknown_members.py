"""Facts and type-1 dimensions on one hand-made load with orphans of every kind.

Orphans are kept and pointed at the 'unknown' member of their dimension, and the pipeline's
declared relationship checks count them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from handmade import (
    HandWarehouse,
    context,
    customer,
    item,
    order,
    payment,
    product,
    review,
    seller,
)

from dwh import config
from dwh.graph import load_pipeline

DS = "2024-02-03"
RUN_ID = context(DS)["run_id"]
LOAD = {
    "customers": [customer("cA", "PA", "01000", "sao paulo", "SP")],
    "orders": [
        order("oa", "cA", "2024-02-01 10:00:00", "delivered", "2024-02-05 09:00:00", "2024-02-10"),
        # Its customer_id never arrived.
        order(
            "ob", "c_ghost", "2024-02-01 11:00:00", "delivered", "2024-02-09 18:00:00", "2024-02-08"
        ),
        order("oc", "cA", "2024-02-01 12:00:00", "teleported"),
    ],
    "products": [product("pa", "perfumaria"), product("pn", None)],
    "product_category_name_translation": [
        {"product_category_name": "perfumaria", "product_category_name_english": "perfumery"}
    ],
    "sellers": [seller("sa")],
    "order_items": [
        item("oa", 1, "pa", "sa", "10.00", "1.00"),
        item("oa", 2, "p_ghost", "sa", "20.00", "2.00"),
        item("oa", 3, "pa", "s_ghost", "30.00", "3.00"),
        item("o_ghost", 1, "pa", "sa", "40.00", "4.00"),
        item("ob", 1, "pa", "sa", "50.00", "5.00"),
    ],
    "order_payments": [
        payment("oa", 1, "credit_card", "60.00"),
        payment("oa", 2, "pix", "6.00"),
        payment("o_ghost", 1, "boleto", "44.00"),
    ],
    "order_reviews": [review("ra", "oa", 4, "chegou bem"), review("rg", "o_ghost", 2, "")],
    "geolocation": [
        {
            "geolocation_zip_code_prefix": "01000",
            "geolocation_lat": lat,
            "geolocation_lng": lng,
            "geolocation_city": city,
            "geolocation_state": "SP",
        }
        for lat, lng, city in (
            (-23.0, -46.0, "sao paulo"),
            (-23.2, -46.2, "sao paulo"),
            (-23.4, -46.4, "sao paolo"),
        )
    ],
}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    hw = HandWarehouse(tmp_path_factory.mktemp("orphans") / "warehouse.duckdb")
    hw.load_day(DS, **LOAD)
    yield hw
    hw.close()


def test_order_items_map_orphans_to_unknown_members(loaded):
    rows = loaded.rows(
        "select f.order_id, f.order_item_id, f.order_date_key, c.customer_unique_id, "
        "f.product_id, f.product_key, f.seller_id, f.seller_key, f.order_status, "
        "f.delivery_days, f.is_on_time "
        "from dw.fact_order_items as f join dw.dim_customer as c on f.customer_key = c.customer_key "
        "order by f.order_id, f.order_item_id"
    )
    assert rows == [
        ("o_ghost", 1, 20240203, "unknown", "pa", "pa", "sa", "sa", "unknown", None, None),
        ("oa", 1, 20240201, "PA", "pa", "pa", "sa", "sa", "delivered", 4, True),
        ("oa", 2, 20240201, "PA", "p_ghost", "unknown", "sa", "sa", "delivered", 4, True),
        ("oa", 3, 20240201, "PA", "pa", "pa", "s_ghost", "unknown", "delivered", 4, True),
        ("ob", 1, 20240201, "unknown", "pa", "pa", "sa", "sa", "delivered", 8, False),
    ]


def test_orders_with_unknown_customer_or_status_are_kept(loaded):
    rows = loaded.rows(
        "select o.order_id, c.customer_unique_id, o.customer_unique_id, o.customer_state, "
        "o.order_status, o.delivery_days, o.is_on_time "
        "from dw.fact_orders as o join dw.dim_customer as c on o.customer_key = c.customer_key "
        "order by o.order_id"
    )
    assert rows == [
        ("oa", "PA", "PA", "SP", "delivered", 4, True),
        ("ob", "unknown", None, None, "delivered", 8, False),
        ("oc", "PA", "PA", "SP", "unknown", None, None),
    ]


def test_unknown_members_are_counted(loaded):
    counts = loaded.rows(
        "select "
        "sum(case when product_key = 'unknown' then 1 else 0 end), "
        "sum(case when seller_key = 'unknown' then 1 else 0 end), "
        "sum(case when customer_key = 'unknown' then 1 else 0 end), "
        "sum(case when order_status = 'unknown' then 1 else 0 end) "
        "from dw.fact_order_items"
    )
    assert counts == [(1, 1, 2, 1)]


def test_declared_relationship_checks_count_the_orphans_and_only_warn(loaded):
    pipeline = load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")
    gate = pipeline.node_map["check_warehouse"]
    checks = [c for c in gate.checks if c.type == "relationship"]
    results = loaded.wh.run_checks("check_warehouse", checks, context(DS))
    assert [(r["name"], r["observed"], r["status"], r["severity"]) for r in results] == [
        ("items_order_known", 0.2, "fail", "warn"),
        ("items_product_known", 0.2, "fail", "warn"),
        ("items_seller_known", 0.2, "fail", "warn"),
        # The order with a missing customer points at the unknown member, which exists.
        ("orders_customer_known", 0.0, "pass", "block"),
    ]
    assert loaded.wh.failed_blocking("check_warehouse", RUN_ID) == 0


def test_payments_and_reviews_flag_missing_orders_and_unknown_types(loaded):
    assert loaded.rows(
        "select order_id, payment_sequential, payment_type, payment_value, has_order "
        "from dw.fact_payments order by order_id, payment_sequential"
    ) == [
        ("o_ghost", 1, "boleto", pytest.approx(44), False),
        ("oa", 1, "credit_card", pytest.approx(60), True),
        ("oa", 2, "unknown", pytest.approx(6), True),
    ]
    assert loaded.rows(
        "select review_id, order_id, review_score, has_comment, has_order "
        "from dw.fact_reviews order by review_id"
    ) == [("ra", "oa", 4, True, True), ("rg", "o_ghost", 2, False, False)]


def test_product_dimension_translates_and_defaults_categories(loaded):
    assert loaded.rows(
        "select product_id, category_name, category_name_english from dw.dim_product order by 1"
    ) == [
        ("pa", "perfumaria", "perfumery"),
        ("pn", "unknown", "unknown"),
        ("unknown", "unknown", "unknown"),
    ]


def test_a_translation_landed_earlier_is_kept_for_later_products(new_warehouse):
    new_warehouse.load_day(DS, **LOAD)
    new_warehouse.load_day("2024-02-04", products=[product("pb", "perfumaria")])
    assert (
        new_warehouse.scalar(
            "select category_name_english from dw.dim_product where product_id = 'pb'"
        )
        == "perfumery"
    )


def test_geography_keeps_the_centre_and_the_most_common_city(loaded):
    assert loaded.rows("select * from dw.dim_geography") == [
        ("01000", "sao paulo", "SP", pytest.approx(-23.2), pytest.approx(-46.2))
    ]


def test_reference_dimensions_hold_their_members_once(loaded):
    loaded.wh.run_sql_file("dw/dim_reference.sql", context(DS))
    loaded.wh.run_sql_file("dw/dim_date.sql", context(DS))
    assert loaded.rows(
        "select (select count(*) from dw.dim_order_status), "
        "(select count(*) from dw.dim_payment_type), "
        "(select count(*) from dw.dim_date), "
        "(select count(*) from dw.dim_customer where customer_key = 'unknown'), "
        "(select count(*) from dw.dim_seller where seller_id = 'unknown')"
    ) == [(9, 6, 7305, 1, 1)]
    assert loaded.rows(
        "select date_key, month_start, day_of_week, is_weekend from dw.dim_date "
        "where calendar_date in ('2024-02-03', '2024-02-05') order by 1"
    ) == [(20240203, dt.date(2024, 2, 1), 6, True), (20240205, dt.date(2024, 2, 1), 1, False)]
