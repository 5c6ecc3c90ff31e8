"""A dw varchar column holds whatever the staging column of the same name holds.

Redshift fails an INSERT whose value is longer than the column ("value too long for type
character varying"); DuckDB does not check widths, so the local target cannot catch it. Read both
DDL files with sqlglot and compare widths instead.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from dwh import config

DDL = config.REPO_ROOT / "include" / "sql" / "ddl"


def varchar_widths(path) -> dict[str, dict[str, int]]:
    """{schema.table: {column: width}} of the varchar columns a DDL file creates."""
    tables = {}
    for statement in sqlglot.parse(path.read_text(), read="redshift"):
        if not isinstance(statement, exp.Create) or not isinstance(statement.this, exp.Schema):
            continue
        table = statement.this.this
        tables[f"{table.db}.{table.name}"] = {
            c.name: int(c.kind.expressions[0].name)
            for c in statement.this.expressions
            if isinstance(c, exp.ColumnDef)
            and c.kind.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR)
            and c.kind.expressions
        }
    return tables


def test_dw_varchar_columns_hold_their_staging_columns():
    staging: dict[str, int] = {}
    for columns in varchar_widths(DDL / "02_staging_tables.sql").values():
        for name, width in columns.items():
            staging[name] = max(width, staging.get(name, 0))
    dw = varchar_widths(DDL / "04_dw_tables.sql")
    assert dw, "no dw tables parsed"
    too_narrow = [
        f"{table}.{name} varchar({width}) < staging varchar({staging[name]})"
        for table, columns in dw.items()
        for name, width in columns.items()
        if name in staging and width < staging[name]
    ]
    assert not too_narrow, "dw columns narrower than staging:\n" + "\n".join(too_narrow)
