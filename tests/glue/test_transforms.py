"""The cleaning transforms on a real local Spark session, with small hand-made inputs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from olist_contract import ENTITIES
from olist_formats import detect
from olist_transforms import BLANK, clean, read_raw

ORDERS_HEADER = ",".join(ENTITIES["orders"].column_names)
ITEMS_HEADER = ",".join(ENTITIES["order_items"].column_names)


@pytest.fixture(scope="session")
def spark():
    from dwh_tools.local_target.spark import get_spark

    return get_spark()


def run_clean(spark, tmp_path, entity: str, header: str, lines: list[str], encoding="utf-8"):
    path = tmp_path / f"{entity}.csv"
    data = (header + "\n" + "\n".join(lines) + "\n").encode(encoding)
    path.write_bytes(data)
    formats = detect(ENTITIES[entity], data, str(path))
    raw = read_raw(spark, ENTITIES[entity], str(path), formats)
    good, bad = clean(ENTITIES[entity], raw.filter(f"not {BLANK}"), formats.timestamp_formats)
    return (
        sorted(good.collect(), key=lambda r: r["_source_line"]),
        {r["_source_line"]: (r["_rule"], r["_reason"]) for r in bad.collect()},
    )


def test_every_order_rule_quarantines_with_its_reason(spark, tmp_path):
    good, bad = run_clean(
        spark,
        tmp_path,
        "orders",
        ORDERS_HEADER,
        [
            "o1,c1,delivered,2017-10-02 10:56:33,,,2017-10-10 21:25:13,2017-10-18 00:00:00",
            "o2,c2,delivered,2017-02-30 10:00:00,,,,",  # impossible date
            "o3,c3,lost,2017-10-02 10:56:33,,,,",  # unknown status
            "o4,,delivered,2017-10-02 10:56:33,,,,",  # required id empty
            "only,three,fields",  # wrong column count
            "o1,c9,shipped,2017-10-03 10:00:00,,,,",  # duplicate natural key
            "o6,c6,DELIVERED,2017-10-05 10:00:00,,,2017-10-01 10:00:00,",  # delivered before bought
        ],
    )
    assert [r["order_id"] for r in good] == ["o1"]
    assert good[0]["order_status"] == "delivered"
    assert str(good[0]["order_purchase_timestamp"]) == "2017-10-02 10:56:33"
    assert {line: rule for line, (rule, _) in bad.items()} == {
        2: "bad_timestamp",
        3: "unknown_enum",
        4: "required_missing",
        5: "malformed_row",
        6: "duplicate_key",
        7: "bad_timestamp_order",
    }
    assert bad[2][1] == "order_purchase_timestamp is not a valid timestamp: 2017-02-30 10:00:00"
    assert bad[3][1] == "order_status has an unknown value: lost"


def test_prices_must_be_non_negative_numbers(spark, tmp_path):
    good, bad = run_clean(
        spark,
        tmp_path,
        "order_items",
        ITEMS_HEADER,
        [
            "o1,1,p1,s1,2017-10-06 11:07:15,58.90,13.29",
            "o2,1,p1,s1,2017-10-06 11:07:15,-5.00,13.29",
            "o3,1,p1,s1,2017-10-06 11:07:15,abc,13.29",
            "o4,1,p1,s1,2017-10-06 11:07:15,10.00,12,50",
        ],
    )
    assert [(r["order_id"], str(r["price"])) for r in good] == [("o1", "58.90")]
    assert {line: rule for line, (rule, _) in bad.items()} == {
        2: "negative_value",
        3: "bad_number",
        4: "malformed_row",
    }


def test_quoted_commas_quotes_and_newlines_survive(spark, tmp_path):
    header = ",".join(ENTITIES["order_reviews"].column_names)
    good, bad = run_clean(
        spark,
        tmp_path,
        "order_reviews",
        header,
        ['r1,o1,5,"Top, really","He said ""great""\nand a new line",2018-01-18 00:00:00,'],
    )
    assert bad == {}
    (row,) = good
    assert row["review_comment_title"] == "Top, really"
    assert row["review_comment_message"] == 'He said "great"\nand a new line'


def test_glue_scripts_import_without_glue_or_spark_libraries(tmp_path):
    # On AWS the script imports awsglue inside main(); nothing local-only at module level.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('awsglue', 'duckdb', 'dwh'):\n"
        "            raise ImportError(f'{name} is not available here')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    from dwh import config

    code = "import clean_entity, olist_transforms, olist_formats, olist_contract; print('ok')"
    env = {"PYTHONPATH": f"{tmp_path}:{config.GLUE_DIR}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_a_file_read_in_several_splits_numbers_its_records_in_file_order(spark, tmp_path):
    lines = [f"p{n:05d},cat,{n % 60},100,1,500,10,10,10" for n in range(1, 3001)]
    path = tmp_path / "products.csv"
    path.write_text(",".join(ENTITIES["products"].column_names) + "\n" + "\n".join(lines) + "\n")
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(16 * 1024))
    try:
        raw = read_raw(spark, ENTITIES["products"], str(path))
        assert raw.rdd.getNumPartitions() > 1
        numbered = {r["product_id"]: r["_source_line"] for r in raw.collect()}
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)
    assert numbered == {f"p{n:05d}": n for n in range(1, 3001)}


def test_only_an_entity_with_free_text_keeps_a_line_break_inside_a_quoted_field(spark, tmp_path):
    reviews = ",".join(ENTITIES["order_reviews"].column_names)
    good, bad = run_clean(
        spark,
        tmp_path,
        "order_reviews",
        reviews,
        ['r1,o1,5,,"Chegou.\nRecomendo",2018-01-01 00:00:00,', "r2,o2,4,,ok,,"],
    )
    assert [(r["review_id"], r["_source_line"]) for r in good] == [("r1", 1), ("r2", 2)]
    assert good[0]["review_comment_message"] == "Chegou.\nRecomendo"
    assert not bad
    # The contract gives sellers no free text: each line is a record, the broken ones rejected.
    good, bad = run_clean(
        spark,
        tmp_path,
        "sellers",
        ",".join(ENTITIES["sellers"].column_names),
        ['s1,13023,"sao\npaulo",SP', "s2,13024,campinas,SP"],
    )
    assert [r["seller_id"] for r in good] == ["s2"]
    assert {rule for rule, _ in bad.values()} == {"malformed_row"}
