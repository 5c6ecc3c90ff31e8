"""The four dashboards' marts on one hand-made load; every expected figure is worked out by hand.

Six persons, ten orders (one canceled, one shipped), three categories (one without an English
name). Item lines (price / freight), by order:

    o1  P1 SP 2024-01-05  delivered on time  bed_bath 100/10, health 50/5   review 5
    o2  P2 SP 2024-01-20  delivered late     bed_bath 200/20                review 1
    o3  P3 RJ 2024-01-25  canceled           health 80/8                    review 1
    o4  P1 SP 2024-02-10  delivered on time  esporte 60/6                   review 4
    o5  P4 RJ 2023-09-15  shipped            bed_bath 40/4
    o6  P3 RJ 2024-03-01  delivered late     health 120/12                  reviews 2 and 4
    o7  P5 MG 2024-03-20  delivered on time  bed_bath 30/3, bed_bath 30/3   review 5
    o8  P1 SP 2024-03-28  delivered on time  health 90/13                   review 3
    o9  P5 MG 2024-01-12  delivered on time  esporte 40/4                   review 5
    o10 P6 SP 2024-03-25  delivered on time  esporte 25/5
"""

from __future__ import annotations

import datetime as dt

import pytest
from handmade import HandWarehouse, customer, item, order, product, review, seller

DS = "2024-04-01"
D = dt.date
T = dt.datetime
STATE = {"P1": "SP", "P2": "SP", "P3": "RJ", "P4": "RJ", "P5": "MG", "P6": "SP"}
# order, person, purchased, status, delivered, estimated
ORDERS = [
    ("o1", "P1", "2024-01-05 10:00:00", "delivered", "2024-01-10 10:00:00", "2024-01-15"),
    ("o2", "P2", "2024-01-20 10:00:00", "delivered", "2024-02-05 10:00:00", "2024-02-01"),
    ("o3", "P3", "2024-01-25 10:00:00", "canceled", None, "2024-02-10"),
    ("o4", "P1", "2024-02-10 10:00:00", "delivered", "2024-02-12 10:00:00", "2024-02-20"),
    ("o5", "P4", "2023-09-15 10:00:00", "shipped", None, "2023-10-01"),
    ("o6", "P3", "2024-03-01 10:00:00", "delivered", "2024-03-05 10:00:00", "2024-03-04"),
    ("o7", "P5", "2024-03-20 10:00:00", "delivered", "2024-03-25 10:00:00", "2024-04-05"),
    ("o8", "P1", "2024-03-28 10:00:00", "delivered", "2024-03-30 10:00:00", "2024-04-10"),
    ("o9", "P5", "2024-01-12 10:00:00", "delivered", "2024-01-15 10:00:00", "2024-01-30"),
    ("o10", "P6", "2024-03-25 10:00:00", "delivered", "2024-03-27 10:00:00", "2024-04-01"),
]
ITEMS = [
    item("o1", 1, "pr1", "s1", "100.00", "10.00"),
    item("o1", 2, "pr2", "s1", "50.00", "5.00"),
    item("o2", 1, "pr1", "s2", "200.00", "20.00"),
    item("o3", 1, "pr2", "s1", "80.00", "8.00"),
    item("o4", 1, "pr3", "s2", "60.00", "6.00"),
    item("o5", 1, "pr1", "s1", "40.00", "4.00"),
    item("o6", 1, "pr2", "s2", "120.00", "12.00"),
    item("o7", 1, "pr1", "s1", "30.00", "3.00"),
    item("o7", 2, "pr1", "s1", "30.00", "3.00"),
    item("o8", 1, "pr2", "s2", "90.00", "13.00"),
    item("o9", 1, "pr3", "s2", "40.00", "4.00"),
    item("o10", 1, "pr3", "s1", "25.00", "5.00"),
]
REVIEWS = [
    review("r1", "o1", 5, "otimo"),
    review("r2", "o2", 1),
    review("r9", "o3", 1),
    review("r3", "o4", 4),
    review("r4", "o6", 2),
    review("r5", "o6", 4),
    review("r6", "o7", 5),
    review("r7", "o8", 3),
    review("r8", "o9", 5),
]
LOAD = {
    # Olist gives every order its own customer_id; the person is customer_unique_id.
    "customers": [
        customer(f"c_{o}", p, "0" + str(n).zfill(4), "cidade", STATE[p])
        for n, (o, p, *_) in enumerate(ORDERS)
    ],
    "orders": [order(o, f"c_{o}", ts, st, dl, est) for o, _, ts, st, dl, est in ORDERS],
    "order_items": ITEMS,
    "order_reviews": REVIEWS,
    "products": [
        product("pr1", "cama_mesa_banho"),
        product("pr2", "beleza_saude"),
        product("pr3", "esporte_lazer"),
    ],
    "product_category_name_translation": [
        {
            "product_category_name": "cama_mesa_banho",
            "product_category_name_english": "bed_bath_table",
        },
        {"product_category_name": "beleza_saude", "product_category_name_english": "health_beauty"},
    ],
    "sellers": [seller("s1"), seller("s2", "RJ")],
}


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    hw = HandWarehouse(tmp_path_factory.mktemp("marts") / "warehouse.duckdb")
    hw.load_day(DS, **LOAD)
    hw.build_marts(DS)
    yield hw
    hw.close()


def approx_rows(rows):
    return [tuple(pytest.approx(v) if isinstance(v, float) else v for v in r) for r in rows]


def floats(rows):
    """Decimal sums as floats, so expected figures read as plain numbers."""
    return [tuple(float(v) if hasattr(v, "as_tuple") else v for v in r) for r in rows]


def test_executive_revenue_orders_aov_and_growth(marts):
    rows = marts.rows(
        "select month_start, customer_state, orders, revenue, freight, average_order_value, "
        "revenue_growth from mart.executive_monthly order by month_start, customer_state"
    )
    # Revenue is the item price; o3 is canceled and left out (no RJ row in January).
    assert floats(rows) == approx_rows(
        [
            (D(2023, 9, 1), "RJ", 1, 40.0, 4.0, 40.0, None),
            (D(2024, 1, 1), "MG", 1, 40.0, 4.0, 40.0, None),
            (D(2024, 1, 1), "SP", 2, 350.0, 35.0, 175.0, None),
            (D(2024, 2, 1), "SP", 1, 60.0, 6.0, 60.0, 60 / 350 - 1),
            # MG and RJ bought nothing in the month before: no month-over-month growth.
            (D(2024, 3, 1), "MG", 1, 60.0, 6.0, 60.0, None),
            (D(2024, 3, 1), "RJ", 1, 120.0, 12.0, 120.0, None),
            (D(2024, 3, 1), "SP", 2, 115.0, 18.0, 57.5, 115 / 60 - 1),
        ]
    )


# Quintile cut points (percentile_cont over the six people, position p * 5):
# recency 0, 3, 8, 27, 68, 195 -> cuts 3, 8, 27, 68: r = 5 up to 3 days, 4 up to 8, 3 up to 27,
# 2 up to 68, else 1; lifetime value 30, 44, 110, 132, 220, 334 -> cuts 44, 110, 132, 220.
RFM_EXPECTED = [
    # person, first, last, recency, frequency, LTV, r, m, segment, churned, repeat
    ("P1", T(2024, 1, 5, 10), T(2024, 3, 28, 10), 0, 3, 334.0, 5, 5, "loyal", False, True),
    (
        "P2",
        T(2024, 1, 20, 10),
        T(2024, 1, 20, 10),
        68,
        1,
        220.0,
        2,
        4,
        "big spender at risk",
        False,
        False,
    ),
    # P3's canceled January order does not count.
    ("P3", T(2024, 3, 1, 10), T(2024, 3, 1, 10), 27, 1, 132.0, 3, 3, "occasional", False, False),
    ("P4", T(2023, 9, 15, 10), T(2023, 9, 15, 10), 195, 1, 44.0, 1, 1, "hibernating", True, False),
    ("P5", T(2024, 1, 12, 10), T(2024, 3, 20, 10), 8, 2, 110.0, 4, 2, "loyal", False, True),
    ("P6", T(2024, 3, 25, 10), T(2024, 3, 25, 10), 3, 1, 30.0, 5, 1, "new", False, False),
]


def test_customer_rfm_scores_segments_value_churn_and_repeat(marts):
    rows = marts.rows(
        "select customer_unique_id, first_order_at, last_order_at, recency_days, frequency, "
        "lifetime_value, r_score, m_score, segment, is_churned, is_repeat "
        "from mart.customer_rfm order by customer_unique_id"
    )
    assert floats(rows) == RFM_EXPECTED


def test_customer_cohort_retention(marts):
    rows = marts.rows(
        "select cast(cohort_month as date), months_since, customers, retention "
        "from mart.customer_cohorts order by 1, 2"
    )
    # January cohort: P1, P2, P3 (canceled order still a visit), P5; P1 back in February;
    # P1, P3 and P5 back in March.
    assert rows == approx_rows(
        [
            (D(2023, 9, 1), 0, 1, 1.0),
            (D(2024, 1, 1), 0, 4, 1.0),
            (D(2024, 1, 1), 1, 1, 0.25),
            (D(2024, 1, 1), 2, 3, 0.75),
            (D(2024, 3, 1), 0, 1, 1.0),
        ]
    )


def test_product_category_ranking_freight_share_reviews_and_on_time(marts):
    rows = marts.rows(
        "select category, orders, items, revenue, average_review_score, on_time_rate, "
        "freight_share, revenue_rank from mart.product_categories order by revenue_rank"
    )
    assert floats(rows) == approx_rows(
        [
            # o1, o2, o5 (shipped, no delivery yet), o7 x2; reviews 5, 1, 5, 5.
            ("bed_bath_table", 4, 5, 400.0, 4.0, 0.75, 40 / 440, 1),
            # o1, o6 (two reviews: 3 on average), o8; the canceled o3 is not revenue.
            ("health_beauty", 3, 3, 260.0, 11 / 3, 2 / 3, 30 / 290, 2),
            # No English name: the Portuguese one. o10 has no review.
            ("esporte_lazer", 3, 3, 125.0, 4.5, 1.0, 15 / 140, 3),
        ]
    )


def test_category_revenue_adds_up_to_executive_revenue(marts):
    assert marts.scalar("select sum(revenue) from mart.product_categories") == marts.scalar(
        "select sum(revenue) from mart.executive_monthly"
    )


LOAD_LOG = [
    # run, date, entity, in, out, quarantined, loaded
    ("run1", "2024-04-01", "orders", 10, 8, 2, 8, "2024-04-01 02:10:00"),
    ("run1", "2024-04-01", "customers", 5, 5, 0, 4, "2024-04-01 02:11:00"),
    ("run1", "2024-04-01", "sellers", 0, 0, 0, 0, "2024-04-01 02:12:00"),
    ("run1", "2024-04-01", "products", 4, 2, 1, 2, "2024-04-01 02:13:00"),
]


def test_operational_loads_quarantine_rate_and_reconciliation(new_warehouse):
    for run, ds, entity, rin, rout, rq, rl, at in LOAD_LOG:
        new_warehouse.insert(
            "ops.load_log",
            [
                {
                    "run_id": run,
                    "ingest_date": ds,
                    "entity": entity,
                    "rows_in": rin,
                    "rows_out": rout,
                    "rows_quarantined": rq,
                    "rows_loaded": rl,
                    "loaded_at": at,
                }
            ],
        )
    new_warehouse.build_marts(DS)
    rows = new_warehouse.rows(
        "select entity, rows_in, rows_quarantined, quarantine_rate, is_reconciled, loaded_at "
        "from mart.operational_loads order by entity"
    )
    assert rows == approx_rows(
        [
            ("customers", 5, 0, 0.0, False, T(2024, 4, 1, 2, 11)),  # one row lost on load
            ("orders", 10, 2, 0.2, True, T(2024, 4, 1, 2, 10)),
            ("products", 4, 1, 0.25, False, T(2024, 4, 1, 2, 13)),  # 4 in, 2 + 1 accounted
            ("sellers", 0, 0, None, True, T(2024, 4, 1, 2, 12)),
        ]
    )


def test_operational_runs_duration_rows_and_check_outcome(new_warehouse):
    for run, ds, entity, rin, rout, rq, rl, at in LOAD_LOG:
        new_warehouse.insert(
            "ops.load_log",
            [
                {
                    "run_id": run,
                    "ingest_date": ds,
                    "entity": entity,
                    "rows_in": rin,
                    "rows_out": rout,
                    "rows_quarantined": rq,
                    "rows_loaded": rl,
                    "loaded_at": at,
                }
            ],
        )
    checks = [
        ("orders_unique", "pass", "block", "2024-04-01 02:20:00"),
        ("items_known", "fail", "warn", "2024-04-01 02:20:30"),
        ("loads_fresh", "fail", "warn", "2024-04-01 02:21:00"),
    ]
    for name, status, severity, at in checks:
        new_warehouse.insert(
            "ops.quality_results",
            [
                {
                    "run_id": "run1",
                    "ingest_date": "2024-04-01",
                    "node_id": "check_warehouse",
                    "check_name": name,
                    "check_type": "sql",
                    "status": status,
                    "severity": severity,
                    "checked_at": at,
                }
            ],
        )
    new_warehouse.build_marts(DS)
    rows = new_warehouse.rows(
        "select run_id, first_load_at, finished_at, duration_seconds, entities, rows_in, "
        "rows_quarantined, rows_loaded, checks, blocking_failures, warnings "
        "from mart.operational_runs"
    )
    # First load 02:10:00, last check 02:21:00: 660 s. In 10+5+0+4, quarantined 2+0+0+1,
    # loaded 8+4+0+2; one blocking check passed, two warnings failed.
    assert rows == [
        ("run1", T(2024, 4, 1, 2, 10), T(2024, 4, 1, 2, 21), 660, 4, 19, 3, 14, 3, 0, 2)
    ]


def test_executive_months_states_and_summary_total_the_states(marts):
    months = marts.rows(
        "select month_start, orders, revenue, freight, average_order_value, revenue_growth "
        "from mart.executive_months order by month_start"
    )
    # January: MG 40 + SP 350 over 1 + 2 orders; 2023-12 sold nothing, so no January growth.
    assert floats(months) == approx_rows(
        [
            (D(2023, 9, 1), 1, 40.0, 4.0, 40.0, None),
            (D(2024, 1, 1), 3, 390.0, 39.0, 130.0, None),
            (D(2024, 2, 1), 1, 60.0, 6.0, 60.0, 60 / 390 - 1),
            (D(2024, 3, 1), 4, 295.0, 36.0, 73.75, 295 / 60 - 1),
        ]
    )
    states = marts.rows(
        "select customer_state, orders, revenue, revenue_share, revenue_rank "
        "from mart.executive_states order by revenue_rank"
    )
    # SP 350 + 60 + 115, RJ 40 + 120, MG 40 + 60; 785 in all.
    assert floats(states) == approx_rows(
        [
            ("SP", 5, 525.0, 525 / 785, 1),
            ("RJ", 2, 160.0, 160 / 785, 2),
            ("MG", 2, 100.0, 100 / 785, 3),
        ]
    )
    summary = marts.rows(
        "select months, first_month, last_month, orders, revenue, freight, average_order_value "
        "from mart.executive_summary"
    )
    assert floats(summary) == approx_rows(
        [(4, D(2023, 9, 1), D(2024, 3, 1), 9, 785.0, 85.0, 785 / 9)]
    )


def test_customer_summary_and_segments_over_the_rfm_people(marts):
    summary = marts.rows(
        "select customers, repeat_customers, churned_customers, repeat_rate, churn_share, "
        "average_lifetime_value, median_lifetime_value from mart.customer_summary"
    )
    # P1 and P5 ordered more than once, P4 is churned; values 334 220 132 44 110 30 (870 in all),
    # median between 110 and 132.
    assert floats(summary) == approx_rows([(6, 2, 1, 2 / 6, 1 / 6, 145.0, 121.0)])
    segments = marts.rows(
        "select segment, customers, lifetime_value, average_lifetime_value, average_recency_days "
        "from mart.customer_segments order by segment"
    )
    assert floats(segments) == approx_rows(
        [
            ("big spender at risk", 1, 220.0, 220.0, 68.0),
            ("hibernating", 1, 44.0, 44.0, 195.0),
            ("loyal", 2, 444.0, 222.0, 4.0),  # P1 (0 days) and P5 (8 days)
            ("new", 1, 30.0, 30.0, 3.0),
            ("occasional", 1, 132.0, 132.0, 27.0),
        ]
    )


def test_product_summary_weights_the_categories_by_their_items(marts):
    rows = marts.rows(
        "select category, orders, items, revenue, freight, average_review_score, on_time_rate "
        "from mart.product_category_sales order by revenue desc"
    )
    assert floats(rows) == approx_rows(
        [
            ("bed_bath_table", 4, 5, 400.0, 40.0, 4.0, 0.75),
            ("health_beauty", 3, 3, 260.0, 30.0, 11 / 3, 2 / 3),
            ("esporte_lazer", 3, 3, 125.0, 15.0, 4.5, 1.0),
        ]
    )
    summary = marts.rows(
        "select categories, items, revenue, freight, freight_share, average_review_score, "
        "on_time_rate, top_category, top_category_share from mart.product_summary"
    )
    # Review: (4.0 * 5 + 11/3 * 3 + 4.5 * 3) / 11 items; on time: (0.75 * 5 + 2/3 * 3 + 1 * 3) / 11.
    assert floats(summary) == approx_rows(
        [
            (
                3,
                11,
                785.0,
                85.0,
                85 / 870,
                44.5 / 11,
                8.75 / 11,
                "bed_bath_table",
                400 / 785,
            )
        ]
    )


def test_summaries_have_no_row_before_the_first_order(new_warehouse):
    new_warehouse.build_marts(DS)
    for view in ("executive_summary", "customer_summary", "product_summary"):
        assert new_warehouse.rows(f"select * from mart.{view}") == [], view


def test_operational_latest_checks_and_daily_figures(new_warehouse):
    loads = [
        # run, date, entity, in, out, quarantined, loaded, at
        ("run1", "2024-04-01", "orders", 10, 8, 2, 8, "2024-04-01 02:10:00"),
        ("run1", "2024-04-01", "customers", 5, 5, 0, 4, "2024-04-01 02:11:00"),
        ("run2", "2024-04-02", "orders", 20, 19, 1, 19, "2024-04-02 02:10:00"),
    ]
    new_warehouse.insert(
        "ops.load_log",
        [
            dict(
                zip(
                    ("run_id", "ingest_date", "entity", "rows_in", "rows_out")
                    + ("rows_quarantined", "rows_loaded", "loaded_at"),
                    row,
                    strict=True,
                )
            )
            for row in loads
        ],
    )
    checks = [
        ("run1", "2024-04-01", "orders_unique", "pass", "block", "2024-04-01 02:20:00"),
        ("run1", "2024-04-01", "items_known", "fail", "warn", "2024-04-01 02:20:00"),
        ("run1", "2024-04-01", "loads_fresh", "fail", "block", "2024-04-01 02:21:00"),
        # A manual re-run of the date later that morning: its pass replaces run1's failure.
        ("manual1", "2024-04-01", "items_known", "pass", "warn", "2024-04-01 09:00:00"),
        # Checks of a date whose loads are not recorded.
        ("run3", "2024-04-03", "orders_unique", "fail", "block", "2024-04-03 02:20:00"),
    ]
    new_warehouse.insert(
        "ops.quality_results",
        [
            {
                "run_id": run,
                "ingest_date": ds,
                "node_id": "check_warehouse",
                "check_name": name,
                "check_type": "sql",
                "status": status,
                "severity": severity,
                "checked_at": at,
            }
            for run, ds, name, status, severity, at in checks
        ],
    )
    new_warehouse.build_marts(DS)
    latest = new_warehouse.rows(
        "select ingest_date, check_name, run_id, status from mart.operational_checks_latest "
        "order by ingest_date, check_name"
    )
    assert latest == [
        (D(2024, 4, 1), "items_known", "manual1", "pass"),
        (D(2024, 4, 1), "loads_fresh", "run1", "fail"),
        (D(2024, 4, 1), "orders_unique", "run1", "pass"),
        (D(2024, 4, 3), "orders_unique", "run3", "fail"),
    ]
    daily = new_warehouse.rows(
        "select ingest_date, rows_in, rows_quarantined, rows_out, rows_loaded, entities, "
        "reconciled_entities, quarantine_rate, checks, checks_passed, blocking_failures, warnings "
        "from mart.operational_daily order by ingest_date"
    )
    # 2024-04-01: customers lost a row on load (5 clean, 4 loaded), so 1 of 2 reconciled; the
    # re-run's pass leaves one blocking failure and no warning.
    assert daily == approx_rows(
        [
            (D(2024, 4, 1), 15, 2, 13, 12, 2, 1, 2 / 15, 3, 2, 1, 0),
            (D(2024, 4, 2), 20, 1, 19, 19, 1, 1, 0.05, 0, 0, 0, 0),
            (D(2024, 4, 3), None, None, None, None, 0, 0, None, 1, 0, 1, 0),
        ]
    )
