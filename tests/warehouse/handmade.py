"""Small hand-made warehouses: the real DDL, dw and mart SQL on a DuckDB file, fed row by row.

Staging is filled with literal rows (what the load tasks would have put there for one logical
date), then the dw files run in the order the ecommerce_dwh pipeline runs them, with the same
templating context as the local SQL operator.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from olist_contract import ENTITIES

from dwh import config
from dwh.graph import load_pipeline
from dwh_tools.local_target.warehouse import Warehouse

STAGING = tuple(ENTITIES)  # one staging table per contract entity

PIPELINE = load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")
DW_FILES = PIPELINE.sql_files("dw/")
MART_FILES = PIPELINE.sql_files("mart/")


def context(ds: str) -> dict:
    """What the local operators hand the SQL for a scheduled run (their own sql_context)."""
    from dwh_tools.local_target.operators import sql_context

    return sql_context({"ds": ds, "run_id": f"scheduled__{ds}T02:00:00+00:00"})


class HandWarehouse:
    """A Warehouse with helpers to stage literal rows and run the pipeline's SQL over them."""

    def __init__(self, path: Path):
        self.wh = Warehouse(path)
        self.wh.ensure_schema()

    def insert(self, table: str, rows: Iterable[dict], ds: str | None = None) -> None:
        for n, row in enumerate(rows, start=1):
            if ds is not None and table.startswith("staging."):
                row = {"_source_file": "hand.csv", "_source_line": n + 1, "ingest_date": ds, **row}
            cols = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            self.wh.con.execute(
                f"insert into {table} ({cols}) values ({marks})", list(row.values())
            )

    def stage(self, ds: str, **rows_by_entity: list[dict]) -> None:
        """Truncate every staging table and fill it with this date's rows (the loads' effect)."""
        unknown = set(rows_by_entity) - set(STAGING)
        assert not unknown, f"not staging tables: {unknown}"
        for entity in STAGING:
            self.wh.con.execute(f"delete from staging.{entity}")
            self.insert(f"staging.{entity}", rows_by_entity.get(entity, []), ds)

    def build_dw(self, ds: str) -> None:
        for rel in DW_FILES:
            self.wh.run_sql_file(rel, context(ds))

    def load_day(self, ds: str, **rows_by_entity: list[dict]) -> None:
        self.stage(ds, **rows_by_entity)
        self.build_dw(ds)

    def build_marts(self, ds: str) -> None:
        for rel in MART_FILES:
            self.wh.run_sql_file(rel, context(ds))

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.wh.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.wh.con.execute(sql, params or []).fetchone()[0]

    def close(self) -> None:
        self.wh.close()


# Row builders: the staging columns a test cares about, the rest left null.


def customer(customer_id: str, person: str, zip_code: str, city: str, state: str) -> dict:
    return {
        "customer_id": customer_id,
        "customer_unique_id": person,
        "customer_zip_code_prefix": zip_code,
        "customer_city": city,
        "customer_state": state,
    }


def order(
    order_id: str,
    customer_id: str,
    purchased: str,
    status: str = "delivered",
    delivered: str | None = None,
    estimated: str | None = None,
) -> dict:
    return {
        "order_id": order_id,
        "customer_id": customer_id,
        "order_status": status,
        "order_purchase_timestamp": purchased,
        "order_delivered_customer_date": delivered,
        "order_estimated_delivery_date": estimated,
    }


def item(order_id: str, n: int, product_id: str, seller_id: str, price: str, freight: str) -> dict:
    return {
        "order_id": order_id,
        "order_item_id": n,
        "product_id": product_id,
        "seller_id": seller_id,
        "price": price,
        "freight_value": freight,
    }


def product(product_id: str, category: str | None) -> dict:
    return {"product_id": product_id, "product_category_name": category}


def seller(seller_id: str, state: str = "SP") -> dict:
    return {
        "seller_id": seller_id,
        "seller_zip_code_prefix": "01001",
        "seller_city": "sao paulo",
        "seller_state": state,
    }


def review(review_id: str, order_id: str, score: int, message: str | None = None) -> dict:
    return {
        "review_id": review_id,
        "order_id": order_id,
        "review_score": score,
        "review_comment_message": message,
    }


def payment(order_id: str, seq: int, kind: str, value: str) -> dict:
    return {
        "order_id": order_id,
        "payment_sequential": seq,
        "payment_type": kind,
        "payment_installments": 1,
        "payment_value": value,
    }
