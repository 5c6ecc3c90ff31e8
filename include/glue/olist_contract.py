"""The raw data contract: the nine Olist-compatible entities, their files, columns and rules.

Pure Python with no Spark or Glue import, so the Glue scripts, the local crawler, the sample-data
generator and the warehouse tests all read the same definition. Column order here is the column
order of the raw CSV header, of the processed Parquet and of the staging tables.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

# Logical types; each layer maps them to its own (Spark, DuckDB, Redshift).
STRING = "string"
INT = "int"
DOUBLE = "double"
DECIMAL = "decimal(12,2)"
TIMESTAMP = "timestamp"
DATE = "date"

# Widths (bytes) of the staging varchar a STRING column lands in, unless the column sets its own.
ID_WIDTH = 64  # Olist ids are 32 hex characters
CODE_WIDTH = 32  # enumerated values (the Glue job quarantines any other value)
TEXT_WIDTH = 256  # names, cities, categories
ZIP_WIDTH = 16  # Brazilian CEP prefixes (5 digits in Olist)
STATE_WIDTH = 8  # state codes (2 letters in Olist)

# Every contract violation's message starts with this, so each runtime can tell it apart from a
# transient failure by the text alone (a Glue job run's ErrorMessage, a state's Cause) and fail
# at once instead of retrying an error that retrying cannot fix.
CONTRACT_VIOLATION = "contract violation"


class ContractError(Exception):
    """A file cannot be read under the contract (a missing column, an undecidable format, a type
    that is not the contract's); the message names the entity, the file and the column."""

    def __init__(self, message: str):
        super().__init__(f"{CONTRACT_VIOLATION}: {message}")


class InvalidRunDate(ValueError):
    """A logical date (ds, ingest_date) that is not a real calendar date written YYYY-MM-DD."""


def check_run_date(ds: object) -> str:
    """The logical date, refused unless a real calendar date written YYYY-MM-DD.

    The one check of every place a logical date enters (the CLI, landing, the UI launcher, the
    Glue job, the SQL context): the date names partition folders (``ingest_date=<ds>``) that
    are replaced, and is written into SQL text, so anything else (``x/../../customers``,
    ``2024-01-01' or '1'='1``) could point outside its partition or change a statement.
    """
    if not isinstance(ds, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", ds):
        raise InvalidRunDate(f"logical date {ds!r} is not a date written YYYY-MM-DD")
    try:
        dt.date.fromisoformat(ds)
    except ValueError as exc:
        raise InvalidRunDate(f"logical date {ds!r} is not a real date ({exc})") from None
    return ds


ORDER_STATUSES = (
    "approved",
    "canceled",
    "created",
    "delivered",
    "invoiced",
    "processing",
    "shipped",
    "unavailable",
)
PAYMENT_TYPES = ("boleto", "credit_card", "debit_card", "voucher", "not_defined")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False  # a null or empty value quarantines the row
    accepted: tuple[str, ...] = ()  # enumeration rule, empty when free
    min_value: float | None = None  # numeric lower bound (inclusive)
    max_value: float | None = None  # numeric upper bound (inclusive)
    width: int | None = None  # STRING only: staging varchar width in bytes (see string_width)
    # Free text that may hold line breaks inside a quoted field. A file is parsed record by
    # record across lines (one reader, not split) only when its entity has such a column;
    # otherwise one record per line, split across readers, and a line break inside a quoted
    # field of another column makes malformed rows.
    multiline: bool = False

    @property
    def string_width(self) -> int:
        """The staging varchar width: the column's own, else ID_WIDTH for *_id, CODE_WIDTH for
        an enumeration, TEXT_WIDTH for the rest."""
        if self.width is not None:
            return self.width
        if self.name.endswith("_id"):
            return ID_WIDTH
        return CODE_WIDTH if self.accepted else TEXT_WIDTH


@dataclass(frozen=True)
class Entity:
    name: str  # the raw/processed prefix and the staging table name
    file_stem: str  # Olist file name without .csv
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    timestamp_order: tuple[tuple[str, str], ...] = field(default=())  # (earlier, later) pairs

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def multiline(self) -> bool:
        """Whether a record of this entity's file may span lines (see Column.multiline)."""
        return any(c.multiline for c in self.columns)

    @property
    def file_name(self) -> str:
        return f"{self.file_stem}.csv"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"entity {self.name!r} has no column {name!r}")


def _c(name: str, type_: str = STRING, **kw) -> Column:
    return Column(name, type_, **kw)


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "orders",
            "olist_orders_dataset",
            (
                _c("order_id", required=True),
                _c("customer_id", required=True),
                _c("order_status", required=True, accepted=ORDER_STATUSES),
                _c("order_purchase_timestamp", TIMESTAMP, required=True),
                _c("order_approved_at", TIMESTAMP),
                _c("order_delivered_carrier_date", TIMESTAMP),
                _c("order_delivered_customer_date", TIMESTAMP),
                _c("order_estimated_delivery_date", TIMESTAMP),
            ),
            natural_key=("order_id",),
            timestamp_order=(("order_purchase_timestamp", "order_delivered_customer_date"),),
        ),
        Entity(
            "order_items",
            "olist_order_items_dataset",
            (
                _c("order_id", required=True),
                _c("order_item_id", INT, required=True, min_value=1),
                _c("product_id", required=True),
                _c("seller_id", required=True),
                _c("shipping_limit_date", TIMESTAMP),
                _c("price", DECIMAL, required=True, min_value=0),
                _c("freight_value", DECIMAL, required=True, min_value=0),
            ),
            natural_key=("order_id", "order_item_id"),
        ),
        Entity(
            "order_payments",
            "olist_order_payments_dataset",
            (
                _c("order_id", required=True),
                _c("payment_sequential", INT, required=True, min_value=1),
                _c("payment_type", required=True, accepted=PAYMENT_TYPES),
                _c("payment_installments", INT, min_value=0),
                _c("payment_value", DECIMAL, required=True, min_value=0),
            ),
            natural_key=("order_id", "payment_sequential"),
        ),
        Entity(
            "order_reviews",
            "olist_order_reviews_dataset",
            (
                _c("review_id", required=True),
                _c("order_id", required=True),
                _c("review_score", INT, required=True, min_value=1, max_value=5),
                _c("review_comment_title", width=512, multiline=True),
                _c("review_comment_message", width=4096, multiline=True),  # free text
                _c("review_creation_date", TIMESTAMP),
                _c("review_answer_timestamp", TIMESTAMP),
            ),
            natural_key=("review_id", "order_id"),
        ),
        Entity(
            "customers",
            "olist_customers_dataset",
            (
                _c("customer_id", required=True),
                _c("customer_unique_id", required=True),
                _c("customer_zip_code_prefix", width=ZIP_WIDTH),
                _c("customer_city"),
                _c("customer_state", width=STATE_WIDTH),
            ),
            natural_key=("customer_id",),
        ),
        Entity(
            "products",
            "olist_products_dataset",
            (
                _c("product_id", required=True),
                _c("product_category_name"),
                # The misspellings are Olist's own column names, kept for compatibility.
                _c("product_name_lenght", INT, min_value=0),
                _c("product_description_lenght", INT, min_value=0),
                _c("product_photos_qty", INT, min_value=0),
                _c("product_weight_g", INT, min_value=0),
                _c("product_length_cm", INT, min_value=0),
                _c("product_height_cm", INT, min_value=0),
                _c("product_width_cm", INT, min_value=0),
            ),
            natural_key=("product_id",),
        ),
        Entity(
            "sellers",
            "olist_sellers_dataset",
            (
                _c("seller_id", required=True),
                _c("seller_zip_code_prefix", width=ZIP_WIDTH),
                _c("seller_city"),
                _c("seller_state", width=STATE_WIDTH),
            ),
            natural_key=("seller_id",),
        ),
        Entity(
            "geolocation",
            "olist_geolocation_dataset",
            (
                _c("geolocation_zip_code_prefix", width=ZIP_WIDTH, required=True),
                _c("geolocation_lat", DOUBLE, min_value=-90, max_value=90),
                _c("geolocation_lng", DOUBLE, min_value=-180, max_value=180),
                _c("geolocation_city"),
                _c("geolocation_state", width=STATE_WIDTH),
            ),
            # Olist repeats a zip prefix with many coordinates; the exact row is the key.
            natural_key=(
                "geolocation_zip_code_prefix",
                "geolocation_lat",
                "geolocation_lng",
                "geolocation_city",
                "geolocation_state",
            ),
        ),
        Entity(
            "product_category_name_translation",
            "product_category_name_translation",
            (
                _c("product_category_name", required=True),
                _c("product_category_name_english", required=True),
            ),
            natural_key=("product_category_name",),
        ),
    )
}

FILE_STEMS: dict[str, str] = {e.file_stem: e.name for e in ENTITIES.values()}


def entity_for_file(file_name: str) -> Entity:
    """The entity whose Olist file stem matches ``file_name`` (with or without .csv)."""
    stem = file_name.rsplit("/", 1)[-1].removesuffix(".csv")
    if stem not in FILE_STEMS:
        known = ", ".join(sorted(FILE_STEMS))
        raise KeyError(f"{file_name}: not an Olist file stem (expected one of: {known})")
    return ENTITIES[FILE_STEMS[stem]]
