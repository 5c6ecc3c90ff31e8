"""Platform versions, in one place. requirements*.txt, docker-compose.yaml, the Dockerfile and
Terraform are checked against these by tests/test_versions.py."""

AIRFLOW = "3.3.1"
MWAA_PYTHON = "3.12"
PROVIDERS = {
    "apache-airflow-providers-amazon": "9.34.0",
    "apache-airflow-providers-common-sql": "2.1.0",
    "apache-airflow-providers-standard": "1.17.0",
    "apache-airflow-providers-postgres": "7.0.1",
    # Not preinstalled on MWAA: requirements.txt installs it.
    "apache-airflow-providers-slack": "9.11.1",
}
GLUE_VERSION = "5.0"
PYSPARK = "3.5.8"
MWAA_CONSTRAINTS_URL = (
    "https://raw.githubusercontent.com/apache/airflow/"
    f"constraints-{AIRFLOW}/constraints-{MWAA_PYTHON}.txt"
)
