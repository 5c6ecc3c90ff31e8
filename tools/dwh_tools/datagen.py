"""Sample data in the shape of the public Olist dataset, at any scale, vectorised with numpy.

``generate(raw_root, ds, scale, seed, day)`` writes the nine Olist CSV files (same stems and
headers) into raw/<entity>/ingest_date=<ds>/. Day 0 is the initial full extract: at scale 1 the
size of the real data (~100k orders over the 700 days up to and including ``ds``, 113k items,
96k customers, 33k products, 3k sellers). Day k >= 1 is the increment landed on ``ds``: that
day's orders with their items, payments and reviews, their customers (about a tenth of them
returning customers who moved, so the customer dimension's history grows), a few new products
and sellers.

Distributions follow Olist's: Black Friday and December peaks, fewer orders at weekends, most
orders with one item, credit card ~74 % and boleto ~19 % of payments, review scores skewed to 5
with low scores on late deliveries, freight growing with weight, ~97 % delivered.
``defect_rate`` > 0 injects the defects real extracts carry (see :func:`inject_defects`).
An entity added to the contract without a generator here gets plain valid rows built from its
column types and rules (:func:`_generic`), so a new entity needs no change in this module.
The same arguments always give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from olist_contract import DATE, DECIMAL, DOUBLE, ENTITIES, INT, TIMESTAMP

# Olist: 99,441 orders by 96,096 people, so about 3.4 % of orders are a returning buyer's.
REPEAT_SHARE = 0.034
BASE_SIZES = {"orders": 99_441, "customers_unique": 96_096, "products": 32_951, "sellers": 3_095}
# The full extract's history ends on its logical date, so every monthly figure (growth against
# the month before included) has months to compare, whatever date the pipeline starts on.
HISTORY_DAYS = 700
STATES = np.array(
    [
        "SP",
        "RJ",
        "MG",
        "RS",
        "PR",
        "SC",
        "BA",
        "DF",
        "ES",
        "GO",
        "PE",
        "CE",
        "PA",
        "MT",
        "MA",
        "MS",
        "PB",
        "RN",
        "PI",
        "AL",
        "SE",
        "TO",
        "RO",
        "AM",
        "AC",
        "AP",
        "RR",
    ]
)
STATE_P = np.array(
    [
        42,
        13,
        12,
        5.5,
        5,
        3.7,
        3.4,
        2.2,
        2,
        2,
        1.7,
        1.3,
        1,
        0.9,
        0.75,
        0.72,
        0.54,
        0.49,
        0.5,
        0.4,
        0.35,
        0.28,
        0.25,
        0.15,
        0.08,
        0.07,
        0.05,
    ]
)
CITIES = {
    "SP": ["sao paulo", "campinas", "guarulhos", "santos"],
    "RJ": ["rio de janeiro", "niteroi"],
    "MG": ["belo horizonte", "uberlandia", "contagem"],
}
CATEGORIES = np.array(
    [
        "cama_mesa_banho",
        "beleza_saude",
        "esporte_lazer",
        "moveis_decoracao",
        "informatica_acessorios",
        "utilidades_domesticas",
        "relogios_presentes",
        "telefonia",
        "ferramentas_jardim",
        "automotivo",
        "brinquedos",
        "cool_stuff",
        "perfumaria",
        "bebes",
        "eletronicos",
        "papelaria",
        "fashion_bolsas_e_acessorios",
        "pet_shop",
        "moveis_escritorio",
        "consoles_games",
    ]
)
CATEGORY_EN = np.array(
    [
        "bed_bath_table",
        "health_beauty",
        "sports_leisure",
        "furniture_decor",
        "computers_accessories",
        "housewares",
        "watches_gifts",
        "telephony",
        "garden_tools",
        "auto",
        "toys",
        "cool_stuff",
        "perfumery",
        "baby",
        "electronics",
        "stationery",
        "fashion_bags_accessories",
        "pet_shop",
        "office_furniture",
        "consoles_games",
    ]
)
CATEGORY_P = np.array(
    [11, 9.6, 8.6, 7.4, 7, 6.3, 5.3, 4.2, 4, 3.8, 3.6, 3.4, 3.1, 2.7, 2.5, 2.2, 1.8, 1.7, 1.5, 1.0]
)
PAYMENT_P = {"credit_card": 0.739, "boleto": 0.190, "voucher": 0.056, "debit_card": 0.015}
COMMENTS = np.array(
    [
        "",
        "",
        "",
        "Recomendo",
        "Produto ótimo, chegou antes do prazo",
        'Veio "quebrado", quero devolver',
        "Bom, mas a entrega, demorou",
        "Não recebi o produto.\nPéssimo atendimento",
        "Excelente; qualidade boa",
    ]
)


# The entities with a generator of their own above; any other contract entity gets _generic rows.
BUILT_IN = frozenset(
    {
        "orders",
        "order_items",
        "order_payments",
        "order_reviews",
        "customers",
        "products",
        "sellers",
        "geolocation",
        "product_category_name_translation",
    }
)


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng([seed, *(abs(hash_key(k)) for k in keys)])


def hash_key(key) -> int:
    # Stable across processes (unlike hash()): a small FNV-1a over the text.
    h = 2166136261
    for ch in str(key).encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    hi = rng.integers(0, 2**63, n, dtype=np.int64)
    lo = rng.integers(0, 2**63, n, dtype=np.int64)
    return np.char.add(
        np.char.zfill(np.char.mod("%x", hi).astype("U16"), 16),
        np.char.zfill(np.char.mod("%x", lo).astype("U16"), 16),
    )


def _choice(rng, values, p, n):
    p = np.asarray(p, dtype=float)
    return rng.choice(values, size=n, p=p / p.sum())


def _fmt_ts(ts: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(ts.astype("datetime64[s]"), unit="s").astype("U19")


def _ts_str(ts: np.ndarray) -> np.ndarray:
    s = _fmt_ts(ts)
    return np.char.replace(s, "T", " ")


def _cities(rng, states: np.ndarray) -> np.ndarray:
    out = np.char.add("cidade ", np.char.lower(states))
    for st, names in CITIES.items():
        mask = states == st
        out[mask] = rng.choice(names, size=mask.sum())
    return out


def _zip(rng, n) -> np.ndarray:
    return np.char.zfill(rng.integers(1000, 99990, n).astype("U5"), 5)


FIRST_EXTRACT_PEOPLE = 0.7  # the full extract's buyers; later days add the other 30 %


def universe(scale: float, seed: int) -> dict:
    """Customers (people), products and sellers of the whole history: the same for every day."""
    rng = _rng(seed, "universe")
    # The full extract's buyers are FIRST_EXTRACT_PEOPLE of everyone; the rest buy later.
    n_people = max(int(BASE_SIZES["customers_unique"] * scale / FIRST_EXTRACT_PEOPLE), 20)
    n_products = max(int(BASE_SIZES["products"] * scale), 20)
    n_sellers = max(int(BASE_SIZES["sellers"] * scale), 5)
    states = _choice(rng, STATES, STATE_P, n_people)
    people = pd.DataFrame(
        {
            "customer_unique_id": _ids(rng, n_people),
            "customer_zip_code_prefix": _zip(rng, n_people),
            "customer_city": _cities(rng, states),
            "customer_state": states,
        }
    )
    cat_idx = _choice(rng, np.arange(len(CATEGORIES)), CATEGORY_P, n_products)
    weight = np.clip(rng.lognormal(6.6, 1.2, n_products), 50, 40_000).astype(int)
    products = pd.DataFrame(
        {
            "product_id": _ids(rng, n_products),
            "product_category_name": CATEGORIES[cat_idx],
            "product_name_lenght": rng.integers(10, 70, n_products),
            "product_description_lenght": rng.integers(50, 3000, n_products),
            "product_photos_qty": rng.integers(1, 7, n_products),
            "product_weight_g": weight,
            "product_length_cm": rng.integers(16, 105, n_products),
            "product_height_cm": rng.integers(2, 105, n_products),
            "product_width_cm": rng.integers(11, 118, n_products),
            "_base_price": np.round(np.clip(rng.lognormal(4.4, 0.9, n_products), 3, 6700), 2),
        }
    )
    seller_states = _choice(rng, STATES[:8], STATE_P[:8], n_sellers)
    sellers = pd.DataFrame(
        {
            "seller_id": _ids(rng, n_sellers),
            "seller_zip_code_prefix": _zip(rng, n_sellers),
            "seller_city": _cities(rng, seller_states),
            "seller_state": seller_states,
        }
    )
    return {"people": people, "products": products, "sellers": sellers}


def _day_weights(days: np.ndarray) -> np.ndarray:
    """Relative order volume per calendar day: growth, weekdays, Black Friday and December."""
    d = pd.to_datetime(days)
    growth = np.linspace(0.3, 1.4, len(days))
    weekday = np.where(d.dayofweek >= 5, 0.75, 1.05)
    black_friday = np.where((d.month == 11) & (d.day >= 20) & (d.day <= 27), 2.6, 1.0)
    december = np.where(d.month == 12, 1.15, 1.0)
    return growth * weekday * black_friday * december


def _orders(rng, n: int, day_start: np.datetime64, day_span: int, u: dict, repeat_share: float):
    if day_span > 1:
        days = day_start + np.arange(day_span).astype("timedelta64[D]")
        w = _day_weights(days)
        day_idx = _choice(rng, np.arange(day_span), w, n)
    else:
        day_idx = np.zeros(n, dtype=int)
    purchase = (
        day_start
        + day_idx.astype("timedelta64[D]")
        + rng.integers(8 * 3600, 23 * 3600, n).astype("timedelta64[s]")
    )
    purchase = np.sort(purchase)
    people = u["people"]
    split = int(len(people) * FIRST_EXTRACT_PEOPLE)
    if day_span > 1:
        # The full extract: most people buy once, a few percent come back within the history.
        n_first = min(split, max(int(round(n * (1 - repeat_share))), 1))
        first = rng.permutation(split)[:n_first]
        person = np.concatenate([first, rng.choice(first, n - n_first)])
        person = person[rng.permutation(n)]
        returning = np.zeros(n, dtype=bool)
    else:
        # A day's increment: new people, and returning ones from the full extract's buyers.
        person = rng.integers(split, len(people), n)
        returning = rng.random(n) < repeat_share
        person[returning] = rng.integers(0, split, returning.sum())
    approved = purchase + rng.integers(600, 2 * 86400, n).astype("timedelta64[s]")
    carrier = approved + rng.integers(86400, 5 * 86400, n).astype("timedelta64[s]")
    transit = np.clip(rng.gamma(2.5, 3.5, n), 1, 60)
    delivered = carrier + (transit * 86400).astype("timedelta64[s]")
    estimated = (purchase + rng.integers(15, 35, n).astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    status = _choice(
        rng,
        np.array(["delivered", "shipped", "canceled", "unavailable", "invoiced", "processing"]),
        [97.0, 1.1, 0.6, 0.6, 0.3, 0.3],
        n,
    )
    delivered_s = _ts_str(delivered)
    delivered_s[status != "delivered"] = ""
    carrier_s = _ts_str(carrier)
    carrier_s[np.isin(status, ["canceled", "unavailable", "invoiced", "processing"])] = ""
    return pd.DataFrame(
        {
            "order_id": _ids(rng, n),
            "customer_id": _ids(rng, n),  # Olist gives every order its own customer_id
            "order_status": status,
            "order_purchase_timestamp": _ts_str(purchase),
            "order_approved_at": _ts_str(approved),
            "order_delivered_carrier_date": carrier_s,
            "order_delivered_customer_date": delivered_s,
            "order_estimated_delivery_date": np.char.add(estimated.astype("U10"), " 00:00:00"),
            "_person": person,
            "_returning": returning,
            "_late": delivered.astype("datetime64[D]") > estimated,
            "_purchase": purchase,
        }
    )


def _tables(rng, orders: pd.DataFrame, u: dict, customers_move: float) -> dict[str, pd.DataFrame]:
    n = len(orders)
    people = u["people"].iloc[orders["_person"].to_numpy()].reset_index(drop=True)
    moved = orders["_returning"].to_numpy() & (rng.random(n) < customers_move)
    if moved.any():
        st = _choice(rng, STATES, STATE_P, moved.sum())
        people.loc[moved, "customer_state"] = st
        people.loc[moved, "customer_city"] = _cities(rng, st)
        people.loc[moved, "customer_zip_code_prefix"] = _zip(rng, moved.sum())
    customers = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].to_numpy(),
            **{
                c: people[c].to_numpy()
                for c in (
                    "customer_unique_id",
                    "customer_zip_code_prefix",
                    "customer_city",
                    "customer_state",
                )
            },
        }
    )
    # Items: ~90 % of orders have one item.
    n_items = 1 + rng.poisson(0.14, n)
    order_idx = np.repeat(np.arange(n), n_items)
    item_no = np.concatenate([np.arange(1, k + 1) for k in n_items]) if n else np.array([], int)
    products, sellers = u["products"], u["sellers"]
    prod = rng.integers(0, len(products), len(order_idx))
    price = np.round(products["_base_price"].to_numpy()[prod] * rng.uniform(0.9, 1.1, len(prod)), 2)
    weight = products["product_weight_g"].to_numpy()[prod]
    freight = np.round(7 + weight / 1000 * 2.2 + rng.gamma(2, 3, len(prod)), 2)
    shipping = orders["_purchase"].to_numpy()[order_idx] + np.timedelta64(3, "D")
    items = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy()[order_idx],
            "order_item_id": item_no,
            "product_id": products["product_id"].to_numpy()[prod],
            "seller_id": sellers["seller_id"].to_numpy()[rng.integers(0, len(sellers), len(prod))],
            "shipping_limit_date": _ts_str(shipping),
            "price": price,
            "freight_value": freight,
        }
    )
    total = (
        pd.Series(price + freight)
        .groupby(order_idx)
        .sum()
        .reindex(range(n), fill_value=0)
        .to_numpy()
    )
    ptype = _choice(rng, np.array(list(PAYMENT_P)), list(PAYMENT_P.values()), n)
    split = (ptype == "voucher") & (rng.random(n) < 0.4)  # vouchers often top up another payment
    installments = np.where(
        ptype == "credit_card", rng.choice([1, 1, 1, 2, 3, 4, 5, 6, 8, 10], n), 1
    )
    pay = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy(),
            "payment_sequential": 1,
            "payment_type": ptype,
            "payment_installments": installments,
            "payment_value": np.round(np.where(split, total * 0.7, total), 2),
        }
    )
    extra = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy()[split],
            "payment_sequential": 2,
            "payment_type": "credit_card",
            "payment_installments": 1,
            "payment_value": np.round(total[split] * 0.3, 2),
        }
    )
    payments = pd.concat([pay, extra], ignore_index=True)
    reviewed = rng.random(n) < 0.99
    late = orders["_late"].to_numpy()
    score = np.where(
        late,
        _choice(rng, np.arange(1, 6), [45, 10, 12, 13, 20], n),
        _choice(rng, np.arange(1, 6), [8, 2.5, 7.5, 19.5, 62.5], n),
    )
    created = (
        orders["_purchase"].to_numpy() + rng.integers(7, 25, n).astype("timedelta64[D]")
    ).astype("datetime64[D]")
    comment_idx = rng.integers(0, len(COMMENTS), n)
    reviews = pd.DataFrame(
        {
            "review_id": _ids(rng, n),
            "order_id": orders["order_id"].to_numpy(),
            "review_score": score,
            "review_comment_title": np.where(score <= 2, "Ruim", ""),
            "review_comment_message": COMMENTS[comment_idx],
            "review_creation_date": np.char.add(created.astype("U10"), " 00:00:00"),
            "review_answer_timestamp": _ts_str(
                created + rng.integers(3600, 5 * 86400, n).astype("timedelta64[s]")
            ),
        }
    )[reviewed]
    return {
        "orders": orders[ENTITIES["orders"].column_names],
        "customers": customers,
        "order_items": items,
        "order_payments": payments,
        "order_reviews": reviews,
    }


def inject_defects(rng, tables: dict[str, pd.DataFrame], rate: float) -> dict[str, list[str]]:
    """Spoil about ``rate`` of the rows the way real extracts are spoilt; returns extra raw lines.

    Kinds: unparsable and impossible timestamps, negative and non-numeric prices, unknown order
    statuses and payment types, empty required ids, duplicated natural keys, and records with a
    wrong number of columns (returned as raw lines, appended to the CSV text).
    """
    extra: dict[str, list[str]] = {}

    def pick(df, k):
        return rng.choice(df.index.to_numpy(), size=min(k, len(df)), replace=False)

    for name, df in tables.items():
        k = int(round(len(df) * rate / 4))
        if k == 0 or df.empty:
            continue
        df = df.astype(dict.fromkeys(df.columns, str))
        if name == "orders":
            df.loc[pick(df, k), "order_purchase_timestamp"] = "2017-02-30 10:00:00"
            df.loc[pick(df, k), "order_status"] = "lost_in_transit"
        if name == "order_items":
            df.loc[pick(df, k), "price"] = "-" + df["price"].iloc[0]
            df.loc[pick(df, k), "freight_value"] = "12,50"
        if name == "order_payments":
            df.loc[pick(df, k), "payment_type"] = "pix"
        if name in ("customers", "order_reviews", "products", "sellers"):
            key = ENTITIES[name].natural_key[0]
            df.loc[pick(df, k), key] = ""
        dupes = df.loc[pick(df, k)]
        tables[name] = pd.concat([df, dupes], ignore_index=True)
        extra[name] = ["malformed,row,with,too,few"] * k
    return extra


def history_start(ds: str) -> np.datetime64:
    """The first day of the full extract landed on ``ds``; its last day is ``ds``."""
    return np.datetime64(ds, "D") - np.timedelta64(HISTORY_DAYS - 1, "D")


def _generic(rng, entity, n: int, day: int, ds: str) -> pd.DataFrame:
    """Rows for a contract entity with no generator of its own, from its column types and rules:
    valid values only, ids unique per extract, timestamps in the extract's days."""
    start = np.datetime64(ds, "D") if day else history_start(ds)
    span = 86400 * (1 if day else HISTORY_DAYS)
    cols = {}
    for c in entity.columns:
        low = c.min_value if c.min_value is not None else 0
        high = c.max_value if c.max_value is not None else 1000
        if c.accepted:
            cols[c.name] = rng.choice(np.array(c.accepted), n)
        elif c.type == INT:
            key = c.name in entity.natural_key
            start_n = int(low) + day * 1_000_000
            cols[c.name] = np.arange(start_n, start_n + n) if key else rng.integers(low, high, n)
        elif c.type in (DOUBLE, DECIMAL):
            values = np.round(rng.uniform(low, high, n), 6 if c.type == DOUBLE else 2)
            cols[c.name] = values if c.type == DOUBLE else np.char.mod("%.2f", values)
        elif c.type in (TIMESTAMP, DATE):
            ts = start + rng.integers(0, span, n).astype("timedelta64[s]")
            cols[c.name] = _ts_str(ts) if c.type == TIMESTAMP else _fmt_ts(ts).astype("U10")
        elif c.name.endswith("_id") or c.name in entity.natural_key:
            cols[c.name] = _ids(rng, n)
        else:
            cols[c.name] = np.char.add(f"{c.name} ", np.arange(n).astype("U"))
    df = pd.DataFrame(cols)
    for earlier, later in entity.timestamp_order:  # keep the contract's order rules
        df[[earlier, later]] = np.sort(df[[earlier, later]].to_numpy(), axis=1)
    return df


def generate(
    raw_root: Path,
    ds: str,
    scale: float = 0.05,
    seed: int = 42,
    day: int = 0,
    defect_rate: float = 0.0,
) -> dict[str, int]:
    """Write one day's extract; returns the number of data records written per entity."""
    if scale <= 0:
        raise ValueError("scale must be > 0")
    u = universe(scale, seed)
    rng = _rng(seed, "day", day)
    if day == 0:
        n = max(int(BASE_SIZES["orders"] * scale), 10)
        orders = _orders(rng, n, history_start(ds), HISTORY_DAYS, u, repeat_share=REPEAT_SHARE)
        tables = _tables(rng, orders, u, customers_move=0.0)
        tables["products"] = u["products"][ENTITIES["products"].column_names]
        tables["sellers"] = u["sellers"]
        tables["product_category_name_translation"] = pd.DataFrame(
            {"product_category_name": CATEGORIES, "product_category_name_english": CATEGORY_EN}
        )
        n_geo = max(int(20_000 * scale), 10)
        geo_states = _choice(rng, STATES, STATE_P, n_geo)
        tables["geolocation"] = pd.DataFrame(
            {
                "geolocation_zip_code_prefix": _zip(rng, n_geo),
                "geolocation_lat": np.round(rng.uniform(-33, 4, n_geo), 6),
                "geolocation_lng": np.round(rng.uniform(-73, -35, n_geo), 6),
                "geolocation_city": _cities(rng, geo_states),
                "geolocation_state": geo_states,
            }
        )
    else:
        n = max(int(140 * scale), 30)
        orders = _orders(rng, n, np.datetime64(ds, "D"), 1, u, repeat_share=0.25)
        # Half the returning customers moved: their new address starts a new SCD2 version.
        tables = _tables(rng, orders, u, customers_move=0.5)
        k = max(int(n * 0.02), 1)
        tables["products"] = u["products"].sample(k, random_state=int(rng.integers(1 << 30)))[
            ENTITIES["products"].column_names
        ]
        tables["sellers"] = u["sellers"].sample(
            max(k // 2, 1), random_state=int(rng.integers(1 << 30))
        )
    for name, entity in ENTITIES.items():  # entities added to the contract without a generator
        if name not in BUILT_IN:
            size = max(int((1000 if day == 0 else 20) * scale), 5)
            tables[name] = _generic(_rng(seed, "generic", name, day), entity, size, day, ds)
    extra = inject_defects(rng, tables, defect_rate) if defect_rate > 0 else {}
    counts = {}
    for name, df in tables.items():
        entity = ENTITIES[name]
        folder = Path(raw_root) / name / f"ingest_date={ds}"
        folder.mkdir(parents=True, exist_ok=True)
        text = df[entity.column_names].to_csv(index=False, lineterminator="\n")
        lines = extra.get(name, [])
        if lines:
            text += "\n".join(lines) + "\n"
        (folder / entity.file_name).write_text(text, encoding="utf-8")
        counts[name] = len(df) + len(lines)
    return counts
