"""``python -m dwh_tools.local_target.dags_test <airflow arguments>``: Airflow's own CLI, with the
run's Spark session starting first.

``dwh run`` executes a pipeline with ``airflow dags test``, which runs every task in its one
process. Before the first task starts, Airflow spends several seconds on one core: importing its
CLI, parsing the DAG file, setting up the metadata and the in-process execution API. When
$DWH_SPARK_WARM_UP is 1 (the runner sets it for a pipeline with Glue jobs), the Spark session
starts in a background thread meanwhile (:func:`dwh_tools.local_target.spark.warm_up`), on the
other core; the first Glue job then finds it started. Nothing else differs from the ``airflow``
command: the same parser, commands and exit status.
"""

from __future__ import annotations

import sys

from dwh_tools.local_target.spark import warm_up


def main() -> int | None:
    warm_up()
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", *sys.argv[1:]]
    return airflow_main()


if __name__ == "__main__":
    sys.exit(main())
