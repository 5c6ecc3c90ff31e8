"""The ``dwh`` command line: validate, compile, graph, and the local-target helpers.

dwh validate                  check every pipeline file, the SQL it runs and its dependencies
                              (each problem one line naming file, node and field; exit 2)
dwh compile [--check]         write (or check) the staging DDL, state machines, CloudWatch dashboard,
                              QuickSight dashboards, arrival gate manifest, JSON Schema, the
                              assets manifest (include/pipelines/assets.json) and the processed
                              catalog tables (infra/modules/glue/processed_tables.json)
dwh graph PIPELINE            print a Mermaid diagram of a pipeline
dwh run / generate / land     the local target: whole pipeline, sample data, your own CSVs (land
                              then runs the arrival gate: a complete date is triggered on a
                              running `dwh ui`, once)
dwh fault DAG TASK            make the next try of a local task fail, to rehearse retries
dwh ui [--port 8080]          the Airflow UI on the local target (api-server, scheduler, ...)

A mistake in the command or its input (a missing folder, a bad date, a file that matches no
entity) is one line on stderr, ``dwh: error: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from olist_contract import InvalidRunDate, check_run_date

from dwh import config
from dwh_tools.errors import UserError

SCHEMA_PATH = config.PIPELINES_DIR / "pipeline.schema.json"


class _Parser(argparse.ArgumentParser):
    """A usage mistake is a user error like any other: one line, exit status 2."""

    def error(self, message: str):
        raise UserError(f"{message} (see `{self.prog} --help`)")


def logical_date(text: str) -> str:
    """``--ds``: a real calendar date written YYYY-MM-DD (:func:`olist_contract.check_run_date`)."""
    try:
        return check_run_date(text)
    except InvalidRunDate as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive(kind: type):
    """``--scale``, ``--times``: a number of ``kind`` above zero."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            number = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {number}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
        return value

    return parse


def _load(args) -> tuple[dict, dict]:
    from dwh.graph import load_all, pipeline_files

    directory = Path(args.pipelines) if getattr(args, "pipelines", None) else None
    result = load_all(pipeline_files(directory))
    return result.pipelines, result.errors


def _lineage_errors(args, pipelines: dict) -> dict:
    """The loaded pipelines whose SQL dependencies are not upstream (see dwh_tools.lineage)."""
    from dwh_tools.lineage import check_all

    directory = Path(args.pipelines) if getattr(args, "pipelines", None) else config.PIPELINES_DIR
    return check_all(pipelines, {name: directory / f"{name}.yaml" for name in pipelines})


def cmd_validate(args) -> int:
    pipelines, errors = _load(args)
    lineage = _lineage_errors(args, pipelines)
    errors = {**errors, **lineage}
    for name, p in sorted(pipelines.items()):
        if any(path.stem == name for path in lineage):
            continue
        kinds = sorted({n.kind for n in p.nodes})
        print(f"ok    {name}: {len(p.nodes)} nodes ({', '.join(kinds)}), SQL dependencies upstream")
    for path, err in errors.items():
        for problem in err.problems:  # one line each: the file, the node and the field
            print(f"error {path.name}: {problem}", file=sys.stderr)
    if not args.skip_sql:
        from dwh.sql import check_all_sql

        problems = check_all_sql()
        for problem in problems:
            print(f"error sql: {problem}", file=sys.stderr)
        if not problems:
            print(
                "ok    include/sql: every file renders, parses as Redshift and transpiles to DuckDB"
            )
        errors = errors or dict.fromkeys(problems, None)
    return 2 if errors else 0  # invalid input, as every other `dwh` command reports it


def _generated(pipelines: dict) -> dict[Path, str]:
    from dwh import assets
    from dwh.graph import json_schema
    from dwh_tools import (
        arrival_manifest,
        cloudwatch_dashboard,
        processed_catalog,
        quicksight_dashboards,
        staging_ddl,
    )
    from dwh_tools.compile_stepfunctions import output_path, render_document

    files = {SCHEMA_PATH: json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"}
    files[staging_ddl.output_path()] = staging_ddl.render()
    files[processed_catalog.OUTPUT] = processed_catalog.render()
    files[assets.manifest_path()] = _assets_manifest(pipelines)
    for p in pipelines.values():
        files[output_path(p)] = render_document(p)
    files[cloudwatch_dashboard.OUTPUT] = cloudwatch_dashboard.render(pipelines)
    files[arrival_manifest.OUTPUT] = arrival_manifest.render(pipelines)
    files[quicksight_dashboards.OUTPUT] = quicksight_dashboards.render()
    return files


def _assets_manifest(pipelines: dict) -> str:
    """include/pipelines/assets.json: the published tables each node writes (dwh.assets)."""
    from dwh_tools.lineage import published_writes

    paths = {name: config.PIPELINES_DIR / f"{name}.yaml" for name in pipelines}
    document = {
        "$comment": "Generated by `dwh compile` from include/pipelines and include/sql "
        "(dwh_tools.lineage); do not edit. The DAGs read it for their asset outlets (dwh.assets).",
        "pipelines": published_writes(pipelines, paths),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def cmd_compile(args) -> int:
    from dwh.graph import PipelineError
    from dwh_tools.quicksight_dashboards import SpecError

    pipelines, errors = _load(args)
    if errors:
        for err in errors.values():
            print(f"error {err}", file=sys.stderr)
        return 1
    rel = lambda p: p.relative_to(config.REPO_ROOT)  # noqa: E731
    if not args.check:  # the state machines embed the staging DDL, so it is written first
        from dwh_tools import staging_ddl

        ddl = staging_ddl.output_path()
        if not ddl.exists() or ddl.read_text() != staging_ddl.render():
            ddl.write_text(staging_ddl.render())
            print(f"wrote {rel(ddl)}")
    try:
        files = _generated(pipelines)
    except (PipelineError, SpecError) as err:
        print(f"error {err}", file=sys.stderr)
        return 1
    expected = set(files)
    stale = {p for p in config.STEPFUNCTIONS_DIR.glob("*.asl.json") if p not in expected}
    drift = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in drift:
            print(
                f"drift {rel(p)}: out of date with its source; run `dwh compile`", file=sys.stderr
            )
        for p in stale:
            print(f"drift {rel(p)}: no pipeline file generates it; delete it", file=sys.stderr)
        if not drift and not stale:
            print(f"ok    {len(files)} generated files match their sources")
        return 1 if drift or stale else 0
    for p, text in files.items():
        if p in drift:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
            print(f"wrote {rel(p)}")
    for p in stale:
        p.unlink()
        print(f"removed {rel(p)}")
    return 0


def cmd_graph(args) -> int:
    from dwh.graph import load_pipeline
    from dwh_tools.diagram import mermaid

    path = config.PIPELINES_DIR / f"{args.pipeline}.yaml"
    if not path.exists():
        path = Path(args.pipeline)
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(config.PIPELINES_DIR.glob("*.yaml")))
        raise UserError(f"{args.pipeline}: no such pipeline or pipeline file (pipelines: {known})")
    print(mermaid(load_pipeline(path)), end="")
    return 0


def cmd_generate(args) -> int:
    import time

    from dwh_tools.datagen import generate

    out = Path(args.out) if args.out else config.lake("raw")
    t0 = time.perf_counter()
    rows = generate(out, args.ds, args.scale, args.seed, args.day, args.defect_rate)
    print(f"wrote {sum(rows.values())} rows in {time.perf_counter() - t0:.1f}s to {out}")
    for name, n in sorted(rows.items()):
        print(f"  {name:<36}{n:>10}")
    if not args.out:  # written into the lake: the arrival gate decides, as after `dwh land`
        from dwh_tools.local_gate import after_landing

        for line in after_landing(args.ds, rows):
            print(line)
    return 0


def cmd_land(args) -> int:
    from dwh_tools.landing import land

    landed = land(Path(args.folder), config.lake("raw"), args.ds)
    print(f"landed {len(landed.files)} files for {args.ds} in {config.lake('raw')}")
    print("\n".join(landed.lines()))
    from dwh_tools.local_gate import after_landing

    for line in after_landing(args.ds, landed):
        print(line)
    return 0


def cmd_fault(args) -> int:
    from dwh_tools.faults import inject

    path = inject(args.dag_id, args.task_id, args.times)
    print(
        f"the next {args.times} tr{'y' if args.times == 1 else 'ies'} of "
        f"{args.dag_id}.{args.task_id} will fail ({path})"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dwh", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate every pipeline file and the SQL")
    p.add_argument("--pipelines", help="folder of pipeline files (default include/pipelines)")
    p.add_argument("--skip-sql", action="store_true", help="do not check include/sql")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "compile",
        help="write the staging DDL, the state machines, the CloudWatch dashboard and the JSON Schema",
    )
    p.add_argument("--check", action="store_true", help="exit 1 when a generated file drifted")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("run", help="run a pipeline end to end on the local target")
    p.add_argument("--pipeline", default="ecommerce_dwh")
    p.add_argument("--ds", type=logical_date, default="2024-01-01", help="logical date YYYY-MM-DD")
    p.add_argument(
        "--scale", type=positive(float), default=1.0, help="sample data scale (1 = Olist size)"
    )
    p.add_argument("--data", help="folder of your own Olist-shaped CSVs instead of sample data")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--defect-rate", type=float, default=0.01, help="share of spoilt sample rows")
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="the extract of this date is empty on purpose: a Glue job may replace processed "
        "rows with an empty partition when the date's raw file is missing (the DAG param "
        "allow_empty; off by default, so a backfill never destroys processed data)",
    )
    p.set_defaults(func=lambda a: __import__("dwh_tools.runner").runner.main(a))

    p = sub.add_parser("generate", help="write Olist-shaped sample CSVs for a logical date")
    p.add_argument("--ds", type=logical_date, required=True)
    p.add_argument("--scale", type=positive(float), default=0.05)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--day", type=int, default=0, help="0 = full extract, k = day-k increment")
    p.add_argument("--defect-rate", type=float, default=0.0)
    p.add_argument("--out", help="raw folder (default $DWH_HOME/lake/raw)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("land", help="land a folder of Olist-shaped CSVs for a logical date")
    p.add_argument("folder")
    p.add_argument("--ds", type=logical_date, required=True)
    p.set_defaults(func=cmd_land)

    p = sub.add_parser("fault", help="make the next tries of a local task fail (rehearse retries)")
    p.add_argument("dag_id")
    p.add_argument("task_id")
    p.add_argument("--times", type=positive(int), default=1)
    p.set_defaults(func=cmd_fault)

    p = sub.add_parser(
        "deploy",
        help="package and sync DAGs, plugins, requirements and Glue scripts to MWAA",
        add_help=False,
    )
    p.set_defaults(func=None)

    p = sub.add_parser(
        "ui", help="the Airflow UI on the local target, without Docker", add_help=False
    )
    p.set_defaults(func=None)

    p = sub.add_parser(
        "rehearse",
        help="the aws DAG and the state machine against moto, compared with the local run",
        add_help=False,
    )
    p.set_defaults(func=None)

    p = sub.add_parser("graph", help="print a Mermaid diagram of a pipeline")
    p.add_argument("pipeline", help="pipeline name or path of a pipeline file")
    p.set_defaults(func=cmd_graph)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except UserError as exc:
        print(f"dwh: error: {exc}", file=sys.stderr)
        return 2


def _main(argv: list[str]) -> int:
    if argv[:1] == ["deploy"]:  # its own options: see `dwh deploy --help`
        from dwh_tools.deploy import main as deploy_main

        return deploy_main(argv[1:])
    if argv[:1] == ["rehearse"]:  # its own options: see `dwh rehearse --help`
        from dwh_tools.rehearsal.__main__ import main as rehearse_main

        return rehearse_main(argv[1:])
    if argv[:1] == ["ui"]:  # its own options: see `dwh ui --help`
        from dwh_tools.ui import main as ui_main

        return ui_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
