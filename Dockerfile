# Astro CLI project image (`astro dev start`): Astro Runtime 3.3-7 carries Apache Airflow 3.3.1,
# the version MWAA runs; the -python-3.12 variant matches MWAA's Python. The runtime installs
# packages.txt (Java 17 for local PySpark) and requirements.txt (the MWAA requirements) on build,
# and copies the project to /usr/local/airflow, where dags/, plugins/ and include/ sit side by
# side, so the dwh package finds include/ next to plugins/ without configuration.
FROM astrocrpublic.azurecr.io/runtime:3.3-7-python-3.12

# The local target's engines (PySpark, DuckDB, sqlglot) come from requirements-local.txt, whose
# Airflow and provider pins equal the runtime's and requirements.txt's.
RUN pip install --no-cache-dir -r requirements-local.txt

# The local target and tooling (tools/) and the Olist contract (include/glue/olist_contract.py,
# imported by the warehouse loads).
ENV PYTHONPATH="/usr/local/airflow/tools:/usr/local/airflow/include/glue"
