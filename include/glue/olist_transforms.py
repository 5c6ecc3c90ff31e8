"""Pure PySpark transforms of the cleaning jobs: raw Olist CSV -> typed rows + quarantined rows.

No Glue import here: the same functions run on AWS Glue 5.0 and on local PySpark 3.5, and the
tests call them on small hand-made DataFrames. Each rejected row keeps its raw text, its file and
record number, a stable rule name and a readable reason.

Rules, checked in this order (a row is quarantined under the first one it breaks):
malformed_row, required_missing, bad_timestamp, bad_number, negative_value, out_of_range,
unknown_enum, bad_timestamp_order, duplicate_key.
"""

from __future__ import annotations

from olist_contract import DECIMAL, DOUBLE, INT, TIMESTAMP, ContractError, Entity
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT = "_corrupt_record"
TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:ss"
SPARK_TYPES = {
    INT: T.IntegerType(),
    DOUBLE: T.DoubleType(),
    DECIMAL: T.DecimalType(12, 2),
    TIMESTAMP: T.TimestampType(),
}


def raw_schema(entity: Entity) -> T.StructType:
    fields = [T.StructField(c, T.StringType()) for c in entity.column_names]
    return T.StructType([*fields, T.StructField(CORRUPT, T.StringType())])


def check_header(entity: Entity, header: list[str], source: str) -> None:
    """Fail when a contract column is missing; extra columns are tolerated (and ignored)."""
    names = [h.strip().strip('"').lstrip("\ufeff") for h in header]
    missing = [c for c in entity.column_names if c not in names]
    if missing:
        raise ContractError(
            f"{source}: entity {entity.name}: missing column(s) {', '.join(missing)} "
            f"(header has: {', '.join(names)})"
        )
    expected_order = [n for n in names if n in entity.column_names]
    if expected_order != entity.column_names:
        raise ContractError(
            f"{source}: entity {entity.name}: columns out of contract order: {', '.join(names)}"
        )


def read_raw(spark: SparkSession, entity: Entity, path: str, encoding: str = "UTF-8") -> DataFrame:
    """Read one raw CSV as strings; malformed records keep their text in _corrupt_record."""
    df = (
        spark.read.option("header", True)
        .option("multiLine", True)
        .option("escape", '"')
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("encoding", encoding)
        .option("enforceSchema", True)
        .schema(raw_schema(entity))
        .csv(path)
    )
    # Spark drops a corrupt column nobody selects; cache keeps it through later projections.
    return with_lineage(df.cache(), path)


def with_lineage(df: DataFrame, source: str) -> DataFrame:
    """Add _source_file and _source_line (the record number in the file, header excluded)."""
    order = Window.orderBy(F.monotonically_increasing_id())
    return df.withColumn("_source_file", F.lit(source)).withColumn(
        "_source_line", F.row_number().over(order).cast("long")
    )


def _blank_to_null(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed == "", None).otherwise(trimmed)


def _typed(entity: Entity, name: str) -> Column:
    c = entity.column(name)
    value = _blank_to_null(F.col(name))
    if c.type == TIMESTAMP:
        return F.to_timestamp(value, TIMESTAMP_FORMAT)
    if c.type in SPARK_TYPES:
        return value.cast(SPARK_TYPES[c.type])
    return value


def clean(entity: Entity, raw: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(clean rows typed per contract, quarantined rows as text with _rule and _reason)."""
    cols = entity.column_names
    df = raw
    for name in cols:
        df = df.withColumn(f"__t_{name}", _typed(entity, name))

    rules: list[tuple[str, Column, Column]] = []
    rules.append(
        (
            "malformed_row",
            F.col(CORRUPT).isNotNull(),
            F.lit(f"record does not have the {len(cols)} columns of the contract"),
        )
    )
    for c in entity.columns:
        if c.required:
            rules.append(
                (
                    "required_missing",
                    _blank_to_null(F.col(c.name)).isNull(),
                    F.lit(f"{c.name} is required but empty"),
                )
            )
    for c in entity.columns:
        raw_value = _blank_to_null(F.col(c.name))
        typed = F.col(f"__t_{c.name}")
        if c.type == TIMESTAMP:
            rules.append(
                (
                    "bad_timestamp",
                    raw_value.isNotNull() & typed.isNull(),
                    F.concat(F.lit(f"{c.name} is not a valid timestamp: "), raw_value),
                )
            )
        elif c.type in (INT, DOUBLE, DECIMAL):
            rules.append(
                (
                    "bad_number",
                    raw_value.isNotNull() & typed.isNull(),
                    F.concat(F.lit(f"{c.name} is not a number: "), raw_value),
                )
            )
    for c in entity.columns:
        typed = F.col(f"__t_{c.name}")
        if c.min_value is not None and c.min_value >= 0:
            rules.append(
                (
                    "negative_value" if c.min_value == 0 else "out_of_range",
                    typed < F.lit(c.min_value),
                    F.concat(F.lit(f"{c.name} below {c.min_value:g}: "), typed.cast("string")),
                )
            )
        elif c.min_value is not None:
            rules.append(
                (
                    "out_of_range",
                    typed < F.lit(c.min_value),
                    F.concat(F.lit(f"{c.name} below {c.min_value:g}: "), typed.cast("string")),
                )
            )
        if c.max_value is not None:
            rules.append(
                (
                    "out_of_range",
                    typed > F.lit(c.max_value),
                    F.concat(F.lit(f"{c.name} above {c.max_value:g}: "), typed.cast("string")),
                )
            )
    for c in entity.columns:
        if c.accepted:
            typed = F.col(f"__t_{c.name}")
            rules.append(
                (
                    "unknown_enum",
                    typed.isNotNull() & ~F.lower(typed).isin(list(c.accepted)),
                    F.concat(F.lit(f"{c.name} has an unknown value: "), typed),
                )
            )
    for earlier, later in entity.timestamp_order:
        a, b = F.col(f"__t_{earlier}"), F.col(f"__t_{later}")
        rules.append(
            (
                "bad_timestamp_order",
                a.isNotNull() & b.isNotNull() & (b < a),
                F.lit(f"{later} is before {earlier}"),
            )
        )

    rule_col = F.lit(None).cast("string")
    reason_col = F.lit(None).cast("string")
    for name, broken, reason in reversed(rules):  # the first rule broken wins
        rule_col = F.when(F.coalesce(broken, F.lit(False)), F.lit(name)).otherwise(rule_col)
        reason_col = F.when(F.coalesce(broken, F.lit(False)), reason).otherwise(reason_col)
    df = df.withColumn("_rule", rule_col).withColumn("_reason", reason_col)

    # Deduplicate the rows that passed every rule: first record of a natural key wins.
    key_window = Window.partitionBy(*[f"__t_{k}" for k in entity.natural_key]).orderBy(
        "_source_file", "_source_line"
    )
    passed = df.filter(F.col("_rule").isNull()).withColumn("__n", F.row_number().over(key_window))
    dupes = (
        passed.filter(F.col("__n") > 1)
        .withColumn("_rule", F.lit("duplicate_key"))
        .withColumn(
            "_reason",
            F.concat(
                F.lit(f"duplicate natural key ({', '.join(entity.natural_key)}) = "),
                F.concat_ws(", ", *[F.col(f"__t_{k}").cast("string") for k in entity.natural_key]),
            ),
        )
    )
    good = passed.filter(F.col("__n") == 1).select(
        *[F.col(f"__t_{n}").alias(n) for n in cols], "_source_file", "_source_line"
    )
    for c in entity.columns:  # enumerations are stored lower-case, as Olist writes them
        if c.accepted:
            good = good.withColumn(c.name, F.lower(F.col(c.name)))
    quarantine_cols = [*cols, CORRUPT, "_source_file", "_source_line", "_rule", "_reason"]
    bad = (
        df.filter(F.col("_rule").isNotNull())
        .select(*quarantine_cols)
        .unionByName(dupes.select(*quarantine_cols))
    )
    return good, bad
