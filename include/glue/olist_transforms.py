"""Pure PySpark transforms of the cleaning jobs: raw Olist CSV -> typed rows + quarantined rows.

No Glue import here: the same functions run on AWS Glue 5.0 and on local PySpark 3.5, and the
tests call them on small hand-made DataFrames. Each rejected row keeps its raw text, its file and
record number, a stable rule name and a readable reason.

Rules, checked in this order (a row is quarantined under the first one it breaks):
malformed_row, required_missing, bad_timestamp, bad_number, negative_value, out_of_range,
unknown_enum, bad_timestamp_order, duplicate_key.
"""

from __future__ import annotations

import re

from olist_contract import DECIMAL, DOUBLE, INT, TIMESTAMP, Entity
from olist_formats import ISO, UTF16, Formats
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

CORRUPT = "_corrupt_record"
BLANK = "_blank"
# Where a record was read (with_lineage): its file split's start offset, the reader (partition)
# and its position there.
_SPLIT, _READER, _POSITION = "__split", "__reader", "__position"
# The rules, in the order they are checked (the module docstring).
RULES = (
    "malformed_row",
    "required_missing",
    "bad_timestamp",
    "bad_number",
    "negative_value",
    "out_of_range",
    "unknown_enum",
    "bad_timestamp_order",
    "duplicate_key",
)
SPARK_TYPES = {
    INT: T.IntegerType(),
    DOUBLE: T.DoubleType(),
    DECIMAL: T.DecimalType(12, 2),
    TIMESTAMP: T.TimestampType(),
}


def raw_schema(entity: Entity) -> T.StructType:
    """The schema of an empty read: the contract's columns as strings, and the corrupt record."""
    return _string_schema(entity.column_names)


def _string_schema(columns: list[str]) -> T.StructType:
    fields = [T.StructField(c, T.StringType()) for c in columns]
    return T.StructType([*fields, T.StructField(CORRUPT, T.StringType())])


def read_raw(
    spark: SparkSession, entity: Entity, path: str, formats: Formats | None = None
) -> DataFrame:
    """Read one raw CSV as strings, by header name, with the file's detected formats.

    Spark maps a CSV's fields to a schema by position, so the schema is the file's own header
    (``formats.header``); the contract's columns are then selected by name, in contract order, and
    any other column of the file is ignored. A record without its header's number of fields keeps
    its text in _corrupt_record. ``_blank`` marks padding rows whose every field is empty.

    A record may span lines only where the contract says so (:attr:`Entity.multiline`): such a
    file is parsed whole by one reader; any other is read one record per line, split across
    readers. A UTF-16 file is always parsed whole (its line ends are not single bytes).
    """
    formats = formats or Formats(header=entity.column_names)
    df = (
        spark.read.option("header", True)
        .option("multiLine", entity.multiline or formats.encoding == UTF16)
        .option("sep", formats.delimiter)
        .option("quote", formats.quote)
        .option("escape", formats.quote)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("encoding", formats.encoding)
        .option("enforceSchema", True)
        .schema(_string_schema(formats.header))
        .csv(path)
    )
    # Spark drops a corrupt column nobody selects; cache keeps it through later projections,
    # and keeps each record's position (see with_lineage) fixed.
    df = with_lineage(_positions(df).cache(), path)
    padding = "^[\\s" + re.escape(formats.delimiter + formats.quote) + "]*$"
    blank = F.coalesce(F.col(CORRUPT).rlike(padding), F.lit(True))
    for name in formats.header:
        blank = blank & F.coalesce(F.trim(F.col(name)) == "", F.lit(True))
    return df.select(
        *entity.column_names, CORRUPT, "_source_file", "_source_line", blank.alias(BLANK)
    )


def _positions(df: DataFrame) -> DataFrame:
    """Where each record was read: its file split's start, its reader, its position there."""
    return (
        df.withColumn(_SPLIT, F.input_file_block_start())
        .withColumn(_READER, F.spark_partition_id())
        .withColumn(_POSITION, F.monotonically_increasing_id())
    )


def with_lineage(df: DataFrame, source: str) -> DataFrame:
    """Add _source_file and _source_line (the record number in the file, header excluded).

    Without a window over the whole file (which would number every record in one task): one
    aggregate counts the records of each (file split, reader) and finds the first position in
    it; a record's number is the count of the splits before its own plus its place in its own.
    """
    if _POSITION not in df.columns:
        df = _positions(df)
    groups = (
        df.groupBy(_SPLIT, _READER)
        .agg(F.min(_POSITION).alias("first"), F.count(F.lit(1)).alias("n"))
        .orderBy(_SPLIT, _READER)
        .collect()
    )
    shift, before = F.lit(None).cast("long"), 0
    for g in groups:
        here = (F.col(_SPLIT) == g[_SPLIT]) & (F.col(_READER) == g[_READER])
        shift = F.when(here, F.lit(before + 1 - g["first"])).otherwise(shift)
        before += g["n"]
    return (
        df.withColumn("_source_file", F.lit(source))
        .withColumn("_source_line", (F.col(_POSITION) + shift).cast("long"))
        .drop(_SPLIT, _READER, _POSITION)
    )


def _blank_to_null(col: Column) -> Column:
    trimmed = F.trim(col)
    return F.when(trimmed == "", None).otherwise(trimmed)


def _typed(entity: Entity, name: str, timestamp_formats: dict[str, str]) -> Column:
    """The column's value typed per contract, from its trimmed text (``__v_<name>``)."""
    c = entity.column(name)
    value = F.col(f"__v_{name}")
    if c.type == TIMESTAMP:
        return F.to_timestamp(value, timestamp_formats.get(name, ISO))
    if c.type in SPARK_TYPES:
        return value.cast(SPARK_TYPES[c.type])
    return value


def _rules(entity: Entity) -> list[tuple[str, Column, Column]]:
    """(rule, condition, reason) of every check of the entity, in the order they are checked.

    Conditions read each value's trimmed text (``__v_<name>``, null when blank) and its typed
    value (``__t_<name>``), both computed once per row by :func:`clean`."""
    rules: list[tuple[str, Column, Column]] = [
        (
            "malformed_row",
            F.col(CORRUPT).isNotNull(),
            F.lit("record does not have the number of fields of the file's header"),
        )
    ]
    for c in entity.columns:
        if c.required:
            rules.append(
                (
                    "required_missing",
                    F.col(f"__v_{c.name}").isNull(),
                    F.lit(f"{c.name} is required but empty"),
                )
            )
    for c in entity.columns:
        raw_value, typed = F.col(f"__v_{c.name}"), F.col(f"__t_{c.name}")
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
        if c.min_value is not None:
            rules.append(
                (
                    "negative_value" if c.min_value == 0 else "out_of_range",
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
    return rules


def _first(cases: list[tuple[Column, Column]]) -> Column:
    """One flat CASE WHEN: the value of the first condition that holds, else null."""
    result = None
    for condition, value in cases:
        result = F.when(condition, value) if result is None else result.when(condition, value)
    return result if result is not None else F.lit(None)


def clean(
    entity: Entity, raw: DataFrame, timestamp_formats: dict[str, str] | None = None
) -> tuple[DataFrame, DataFrame]:
    """(clean rows typed per contract, quarantined rows as text with _rule and _reason).

    ``raw`` holds no blank padding rows (the caller counts and drops them); timestamps are parsed
    with the file's detected layout per column (ISO when none is given).

    Every value is trimmed and typed once per row; the rules are one CASE that gives the index of
    the first rule a row breaks (``__i``), and one window over all rows numbers the records of a
    natural key among the rows that passed every rule: the first record of a key wins, the others
    break ``duplicate_key``. Good and quarantined rows are then two filters of that one result,
    and the reason text is only built for quarantined rows.
    """
    cols = entity.column_names
    df = raw.drop(BLANK) if BLANK in raw.columns else raw
    df = df.select("*", *[_blank_to_null(F.col(n)).alias(f"__v_{n}") for n in cols])
    df = df.select(
        "*", *[_typed(entity, n, timestamp_formats or {}).alias(f"__t_{n}") for n in cols]
    )
    rules = _rules(entity)
    df = df.withColumn(
        "__i", _first([(broken, F.lit(i)) for i, (_, broken, _) in enumerate(rules)])
    )

    passed = F.col("__i").isNull()
    key_window = Window.partitionBy(passed, *[f"__t_{k}" for k in entity.natural_key]).orderBy(
        "_source_file", "_source_line"
    )
    duplicate = len(rules)
    df = df.withColumn(
        "__i",
        F.when(passed & (F.row_number().over(key_window) > 1), F.lit(duplicate)).otherwise(
            F.col("__i")
        ),
    )

    good = df.filter(F.col("__i").isNull()).select(
        *[
            (F.lower(F.col(f"__t_{c.name}")) if c.accepted else F.col(f"__t_{c.name}")).alias(
                c.name
            )  # enumerations are stored lower-case, as Olist writes them
            for c in entity.columns
        ],
        "_source_file",
        "_source_line",
    )
    duplicate_reason = F.concat(
        F.lit(f"duplicate natural key ({', '.join(entity.natural_key)}) = "),
        F.concat_ws(", ", *[F.col(f"__t_{k}").cast("string") for k in entity.natural_key]),
    )
    index = F.col("__i")
    names = [*(name for name, _, _ in rules), "duplicate_key"]
    reasons = [*(reason for _, _, reason in rules), duplicate_reason]
    bad = df.filter(index.isNotNull()).select(
        *cols,
        CORRUPT,
        "_source_file",
        "_source_line",
        _first([(index == i, F.lit(n)) for i, n in enumerate(names)]).alias("_rule"),
        _first([(index == i, r) for i, r in enumerate(reasons)]).alias("_reason"),
    )
    return good, bad
