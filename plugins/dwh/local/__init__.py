"""Embedded engines of the local target: Spark for the Glue scripts, DuckDB for Redshift."""
