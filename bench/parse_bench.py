"""DAG parse time: what Airflow's DagBag spends on each DAG file, per target, beside a static DAG.

For every file in dags/ and each target (local, aws) it measures, in fresh processes:
- cold: nothing imported beforehand but the DagBag class (a DAG processor's first parse);
- warm: Airflow's SDK and the provider modules imported beforehand, as MWAA's DAG processor
  pre-imports them (``[scheduler] parsing_pre_import_modules``);
and the same for the static DAG in bench/static_dags/ with the same tasks written out one
operator at a time. Prints the median DagBag duration of each and the ratio.

A DAG processor parses a file again and again; the first parse of a pipeline file's content
validates it and keeps the result (dwh.graph's validation cache, here in a fresh temporary
$DWH_CACHE_DIR), so each compiled file is parsed once, untimed, before it is measured.
``--repo DIR`` measures another checkout's DAG files and code beside the same static DAGs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "bench" / "static_dags"

PROBE = r"""
import json, sys, time
if sys.argv[2] == "warm":
    import airflow.sdk
    import airflow.providers.amazon.aws.operators.glue
    import airflow.providers.amazon.aws.operators.glue_crawler
    import airflow.providers.amazon.aws.operators.redshift_data
    import airflow.providers.amazon.aws.operators.sns
    import airflow.providers.amazon.aws.notifications.sns
    import airflow.providers.common.sql.operators.sql
    import airflow.providers.slack.notifications.slack_webhook
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
assert not bag.import_errors, bag.import_errors
(stat,) = bag.dagbag_stats
print(json.dumps({"seconds": stat.duration.total_seconds(), "tasks": stat.task_num}))
"""


CACHE = tempfile.mkdtemp(prefix="parse-bench-cache-")


def measure(
    dag_file: Path, mode: str, target: str, runs: int, repo: Path = REPO, prime: bool = False
) -> tuple[float, int]:
    env = dict(os.environ)
    # The local target's operators live in tools/ (the laptop's tooling), as in `dwh run`.
    paths = [repo / "plugins", repo / "tools", repo / "include" / "glue"]
    env.update(
        DWH_TARGET=target,
        PYTHONPATH=os.pathsep.join(str(p) for p in paths),
        AIRFLOW_HOME=env.get("AIRFLOW_HOME", tempfile.mkdtemp(prefix="parse-bench-")),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        DWH_CACHE_DIR=CACHE,
    )
    samples, tasks = [], 0
    for _ in range(runs + prime):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(dag_file), mode],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if prime:  # the first parse of this content, which validates it
            prime = False
            continue
        samples.append(result["seconds"])
        tasks = result["tasks"]
    return statistics.median(samples), tasks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--repo", type=Path, default=REPO, help="measure this checkout's DAGs")
    args = parser.parse_args()
    repo = args.repo.resolve()
    header = f"{'DAG file':<26}{'target':<7}{'mode':<6}{'tasks':>6}{'compiled ms':>13}{'static ms':>11}{'ratio':>7}"
    print(header)
    print("-" * len(header))
    worst_ratio, worst_warm, worst_warm_ratio = 0.0, 0.0, 0.0
    for dag_file in sorted((repo / "dags").glob("*.py")):
        for target in ("local", "aws"):
            static = STATIC / f"{dag_file.stem}__{target}.py"
            for mode in ("cold", "warm"):
                compiled, tasks = measure(dag_file, mode, target, args.runs, repo, prime=True)
                hand, _ = measure(static, mode, target, args.runs, repo)
                ratio = compiled / hand
                print(
                    f"{dag_file.name:<26}{target:<7}{mode:<6}{tasks:>6}"
                    f"{compiled * 1000:>13.1f}{hand * 1000:>11.1f}{ratio:>7.2f}"
                )
                worst_ratio = max(worst_ratio, ratio)
                if mode == "warm":
                    worst_warm = max(worst_warm, compiled)
                    worst_warm_ratio = max(worst_warm_ratio, ratio)
    print(f"\nworst compiled/static ratio, warm: {worst_warm_ratio:.2f} (goal <= 1.5)")
    print(f"worst compiled/static ratio, cold or warm: {worst_ratio:.2f}")
    print(f"worst warm parse time: {worst_warm * 1000:.1f} ms per file (goal < 100 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
