"""Render the pages to HTML: index.html and one file per dashboard, beside plotly.min.js and
dashboard.js (the pages' filters and CSV export)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from dwh import config

from .customer import customer
from .executive import executive
from .fmt import month
from .model import Marts
from .operational import operational
from .product import product

TEMPLATES = Path(__file__).with_name("templates")
PLOTLY_JS = "plotly.min.js"
# The pages' filters and CSV export, written beside them as it is.
SCRIPT = Path(__file__).with_name("static") / "dashboard.js"
DASHBOARDS = ("executive", "customer", "product", "operational")


def _period(m: Marts) -> str:
    logical = m.one(
        "mart.operational_daily",
        "select min(ingest_date) as first, max(ingest_date) as last from mart.operational_daily "
        "having count(*) > 0",
    )
    bought = m.one(
        "mart.executive_summary", "select first_month, last_month from mart.executive_summary"
    )
    parts = [
        f"Logical dates {logical['first']} to {logical['last']}"
        if logical
        else "No logical date loaded yet"
    ]
    if bought:
        parts.append(
            f"orders purchased {month(bought['first_month'])} to {month(bought['last_month'])}"
        )
    return " · ".join(parts)


def template_environment():
    """The dashboards' page templates, rendered sandboxed and HTML-escaped."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write(path: Path, text: str) -> None:
    """Write only when the content changed, so an unchanged file keeps its timestamp."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def render(
    warehouse_path: Path,
    out_dir: Path,
    *,
    airflow_db: Path | None = None,
    rendered_at: dt.datetime | None = None,
) -> dict[str, Path]:
    """Write index.html and the four dashboards into ``out_dir``; returns their paths by name.

    ``airflow_db`` is the local Airflow metadata (SQLite) for run and task durations; without it
    the durations come from the ops tables. Raises FileNotFoundError when there is no warehouse.
    """
    import duckdb
    from plotly.offline import get_plotlyjs

    warehouse_path, out_dir = Path(warehouse_path), Path(out_dir)
    if not warehouse_path.exists():
        raise FileNotFoundError(
            f"{warehouse_path}: no warehouse to render dashboards from; run the pipeline first "
            "(make run)"
        )
    rendered_at = rendered_at or dt.datetime.now(dt.UTC)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        marts = Marts(con)
        pages = [executive(marts), customer(marts), product(marts), operational(marts, airflow_db)]
        period = _period(marts)
    finally:
        con.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / PLOTLY_JS, get_plotlyjs())
    _write(out_dir / SCRIPT.name, SCRIPT.read_text(encoding="utf-8"))
    env = template_environment()
    common = {
        "period": f"{period} · rendered {rendered_at:%Y-%m-%d %H:%M} UTC",
        "rendered_at": f"{rendered_at:%Y-%m-%d %H:%M:%S} UTC",
        "source": warehouse_path.name,
        "links": [{"slug": p.slug, "file": p.file, "title": p.title} for p in pages],
    }
    written = {}
    index = env.get_template("index.html.j2").render(
        title="E-commerce warehouse dashboards",
        slug="index",
        plotly=None,
        pages=pages,
        banners=[],
        **common,
    )
    _write(out_dir / "index.html", index)
    written["index"] = out_dir / "index.html"
    page_template = env.get_template("page.html.j2")
    for p in pages:
        html = page_template.render(
            title=f"{p.title} dashboard",
            slug=p.slug,
            plotly=PLOTLY_JS,
            kpis=p.kpis,
            charts=p.charts,
            tables=p.tables,
            banners=p.banners,
            filters=p.filters,
            script=SCRIPT.name,
            **common,
        )
        _write(out_dir / p.file, html)
        written[p.slug] = out_dir / p.file
    return written


def default_out_dir() -> Path:
    return config.dwh_home() / "dashboards"


def render_local(rendered_at: dt.datetime | None = None) -> dict[str, Path]:
    """Render the local target's warehouse into $DWH_HOME/dashboards/, with Airflow durations."""
    return render(
        config.warehouse_path(),
        default_out_dir(),
        airflow_db=config.dwh_home() / "airflow" / "airflow.db",
        rendered_at=rendered_at,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dwh_tools.dashboards",
        description="Render the executive, customer, product and operational dashboards "
        "from the warehouse marts as static HTML that works offline.",
    )
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file to read")
    parser.add_argument("--out", type=Path, default=None, help="folder to write the pages into")
    parser.add_argument(
        "--airflow-db", type=Path, default=None, help="Airflow metadata SQLite, for run durations"
    )
    args = parser.parse_args(argv)
    home = config.dwh_home()
    try:
        written = render(
            args.warehouse or config.warehouse_path(),
            args.out or default_out_dir(),
            airflow_db=args.airflow_db or home / "airflow" / "airflow.db",
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f"{name:<12} {path}")
    return 0
