"""``python -m dwh_tools.dashboards``: render $DWH_HOME/warehouse.duckdb into $DWH_HOME/dashboards/."""

import sys

from .report import main

sys.exit(main())
