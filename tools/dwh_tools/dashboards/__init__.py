"""Static HTML dashboards over the warehouse marts: executive, customer, product, operational.

``render(warehouse_path, out_dir)`` opens the DuckDB warehouse read-only and writes
``index.html`` and one page per dashboard into ``out_dir``, with Plotly's JavaScript written once
beside them (``plotly.min.js``): the pages open from the file system with no network. A mart that is
empty or not built yet renders a "No data" notice instead of a chart, by one rule
(``Marts.no_data``) on every page. Every figure is a column of a mart view (include/sql/mart/),
the same views the QuickSight datasets read; the pages only read and format. Run durations come
from the local Airflow metadata when its SQLite file is given (not part of the warehouse), else
from mart.operational_runs.

One module per page (executive, customer, product, operational); the page model and the marts'
reader in ``model``, number formats in ``fmt``, Plotly helpers in ``figures``, the HTML in
``report`` with its templates under ``templates/``; ``browser`` finds (or installs) the headless
Chromium the pages are checked in.

``python -m dwh_tools.dashboards`` renders $DWH_HOME/warehouse.duckdb into $DWH_HOME/dashboards/.
Local target only: duckdb and plotly are imported inside the functions, never at module level.
"""

from .fmt import NONE
from .report import DASHBOARDS, PLOTLY_JS, TEMPLATES, default_out_dir, main, render, render_local

__all__ = [
    "DASHBOARDS",
    "NONE",
    "PLOTLY_JS",
    "TEMPLATES",
    "default_out_dir",
    "main",
    "render",
    "render_local",
]
