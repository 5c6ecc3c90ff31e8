"""SCD type 2 customer over three logical dates, and the facts' choice of customer version.

Persons: A moves on day 2 and moves back to the first address on day 3; B comes back unchanged on
day 2; C is new on day 2 and moves on day 3; D arrives on day 3 without an order.
"""

from __future__ import annotations

import datetime as dt

import pytest
from handmade import HandWarehouse, customer, order

T = dt.datetime
OPEN_START, OPEN_END = T(1900, 1, 1), T(9999, 12, 31)
SP = ("01000", "sao paulo", "SP")
BH = ("30000", "belo horizonte", "MG")

DAY1 = {
    "customers": [customer("c1", "A", *SP), customer("c2", "B", "20000", "rio de janeiro", "RJ")],
    "orders": [order("o1", "c1", "2024-01-10 10:00:00"), order("o2", "c2", "2024-01-10 11:00:00")],
}
DAY2 = {
    "customers": [
        customer("c3", "A", *BH),
        customer("c4", "B", "20000", "rio de janeiro", "RJ"),
        customer("c5", "C", "40000", "curitiba", "PR"),
    ],
    "orders": [
        order("o3", "c3", "2024-01-11 09:00:00"),
        order("o4", "c4", "2024-01-11 12:00:00"),
        order("o5", "c5", "2024-01-11 13:00:00"),
    ],
}
DAY3 = {
    "customers": [
        customer("c6", "A", *SP),
        customer("c7", "C", "41000", "londrina", "PR"),
        customer("c8", "D", "50000", "recife", "PE"),
    ],
    "orders": [order("o6", "c6", "2024-01-12 08:00:00"), order("o7", "c7", "2024-01-12 15:00:00")],
}
DAYS = (("2024-01-10", DAY1), ("2024-01-11", DAY2), ("2024-01-12", DAY3))

# person, zip, city, state, valid_from, valid_to, is_current: written out by hand.
EXPECTED_VERSIONS = [
    ("A", "01000", "sao paulo", "SP", OPEN_START, T(2024, 1, 11, 9), False),
    ("A", "30000", "belo horizonte", "MG", T(2024, 1, 11, 9), T(2024, 1, 12, 8), False),
    ("A", "01000", "sao paulo", "SP", T(2024, 1, 12, 8), OPEN_END, True),
    ("B", "20000", "rio de janeiro", "RJ", OPEN_START, OPEN_END, True),
    ("C", "40000", "curitiba", "PR", OPEN_START, T(2024, 1, 12, 15), False),
    ("C", "41000", "londrina", "PR", T(2024, 1, 12, 15), OPEN_END, True),
    ("D", "50000", "recife", "PE", OPEN_START, OPEN_END, True),
    ("unknown", None, None, None, OPEN_START, OPEN_END, True),
]
VERSIONS_SQL = (
    "select customer_unique_id, customer_zip_code_prefix, customer_city, customer_state, "
    "valid_from, valid_to, is_current from dw.dim_customer order by customer_unique_id, valid_from"
)


def build(path) -> HandWarehouse:
    hw = HandWarehouse(path)
    for ds, rows in DAYS:
        hw.load_day(ds, **rows)
    return hw


@pytest.fixture(scope="module")
def three_loads(tmp_path_factory):
    hw = build(tmp_path_factory.mktemp("scd2") / "warehouse.duckdb")
    yield hw
    hw.close()


def test_after_day_one_every_person_has_one_open_version(new_warehouse):
    new_warehouse.load_day("2024-01-10", **DAY1)
    assert new_warehouse.rows(VERSIONS_SQL) == [
        ("A", "01000", "sao paulo", "SP", OPEN_START, OPEN_END, True),
        ("B", "20000", "rio de janeiro", "RJ", OPEN_START, OPEN_END, True),
        ("unknown", None, None, None, OPEN_START, OPEN_END, True),
    ]


def test_three_loads_give_the_expected_versions(three_loads):
    assert three_loads.rows(VERSIONS_SQL) == EXPECTED_VERSIONS


def test_version_counts_and_one_current_version_per_person(three_loads):
    counts = three_loads.rows(
        "select customer_unique_id, count(*), sum(case when is_current then 1 else 0 end) "
        "from dw.dim_customer group by 1 order by 1"
    )
    assert counts == [("A", 3, 1), ("B", 1, 1), ("C", 2, 1), ("D", 1, 1), ("unknown", 1, 1)]


def test_customer_keys_are_unique_even_when_a_person_returns_to_an_old_address(three_loads):
    # A lives at the same address in versions 1 and 3: they are still two rows with two keys.
    assert three_loads.scalar("select count(distinct customer_key) from dw.dim_customer") == 8


def test_versions_of_a_person_do_not_overlap_and_leave_no_gap(three_loads):
    gaps = three_loads.rows(
        "select customer_unique_id, valid_to, next_from from ("
        "  select customer_unique_id, valid_to,"
        "    lead(valid_from) over (partition by customer_unique_id order by valid_from) as next_from"
        "  from dw.dim_customer) as v "
        "where next_from is not null and next_from <> valid_to"
    )
    assert gaps == []


def test_customer_map_points_every_order_customer_id_at_its_person(three_loads):
    assert three_loads.rows("select * from dw.customer_map order by customer_id") == [
        ("c1", "A"),
        ("c2", "B"),
        ("c3", "A"),
        ("c4", "B"),
        ("c5", "C"),
        ("c6", "A"),
        ("c7", "C"),
        ("c8", "D"),
    ]


def test_orders_take_the_customer_version_valid_when_they_were_placed(three_loads):
    rows = three_loads.rows(
        "select o.order_id, o.customer_unique_id, o.customer_state, c.customer_city, "
        "c.valid_from, o.order_date_key "
        "from dw.fact_orders as o join dw.dim_customer as c on o.customer_key = c.customer_key "
        "order by o.order_id"
    )
    assert rows == [
        # A before the move, at the moment of the move, and after moving back.
        ("o1", "A", "SP", "sao paulo", OPEN_START, 20240110),
        ("o2", "B", "RJ", "rio de janeiro", OPEN_START, 20240110),
        ("o3", "A", "MG", "belo horizonte", T(2024, 1, 11, 9), 20240111),
        ("o4", "B", "RJ", "rio de janeiro", OPEN_START, 20240111),
        ("o5", "C", "PR", "curitiba", OPEN_START, 20240111),
        ("o6", "A", "SP", "sao paulo", T(2024, 1, 12, 8), 20240112),
        ("o7", "C", "PR", "londrina", T(2024, 1, 12, 15), 20240112),
    ]


def test_reloading_the_latest_date_changes_nothing(tmp_path):
    hw = build(tmp_path / "warehouse.duckdb")
    try:
        before = hw.wh.table_checksums(("dw",))
        hw.load_day("2024-01-12", **DAY3)
        assert hw.wh.table_checksums(("dw",)) == before
        assert hw.rows(VERSIONS_SQL) == EXPECTED_VERSIONS
    finally:
        hw.close()


def test_reloading_an_earlier_date_after_later_ones_changes_nothing(tmp_path):
    # Clearing day 2's tasks in Airflow after day 3 ran: day 2's addresses are history already.
    hw = build(tmp_path / "warehouse.duckdb")
    try:
        before = hw.wh.table_checksums(("dw",))
        hw.load_day("2024-01-11", **DAY2)
        assert hw.rows(VERSIONS_SQL) == EXPECTED_VERSIONS
        assert hw.wh.table_checksums(("dw",)) == before
    finally:
        hw.close()
