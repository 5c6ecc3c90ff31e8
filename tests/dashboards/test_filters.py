"""The dashboards' date and state filters and "Download CSV", driven in headless Chromium.

Each page is opened with a probe script beside it that sets the filter bar's inputs as a person
would (value, then a change event), waits for the redraw, and writes what the page then shows
into the DOM: the plotted marks per chart, the points of each trace and the CSV of each chart
(from the page's own export, and from the Blob behind its "Download CSV" link). The CSVs are
compared with the marts' rows queried here from DuckDB. Without a browser these tests skip,
saying what to install.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from test_dashboards import CONTEXT, MARTS, RENDERED_AT, build_warehouse, dump_doms

from dwh_tools import dashboards
from dwh_tools.local_target.warehouse import Warehouse

# Runs once the page has loaded: each step sets the filter bar and records what is drawn.
PROBE = """<script>
addEventListener("load", async () => {
  const steps = %(steps)s, out = [];
  const form = document.querySelector("form[data-filters]");
  // A download's default action would save a file: the link's own handler still runs first.
  document.addEventListener("click", (e) => e.preventDefault());
  const drawn = (key) => {
    const root = document.querySelector('[data-chart="' + key + '"]');
    const d = (p) => !["", "M0,0Z"].includes((p.getAttribute("d") || "").trim());
    const gd = document.getElementById("chart-" + key);
    return {
      bars: [...root.querySelectorAll("g.point > path")].filter(d).length,
      points: [...root.querySelectorAll("path.point")].filter(d).length,
      traces: gd && gd.data ? gd.data.map((t) => t.visible === false ? 0 :
                                          (t.y || t.values || []).length) : [],
      title: root.closest(".card").querySelector("h2").textContent,
      empty_note: !(root.closest(".card").querySelector("[data-filtered-empty]") || {}).hidden,
    };
  };
  try {
    await dwhDashboard.drawn;
    for (const step of steps) {
      for (const [name, value] of Object.entries(step)) {
        form.elements[name].value = value;
        form.dispatchEvent(new Event("change", {bubbles: true}));
      }
      await dwhDashboard.drawn;
      const charts = {};
      for (const el of document.querySelectorAll("[data-chart]:not([data-empty])")) {
        const key = el.dataset.chart;
        charts[key] = {...drawn(key), csv: dwhDashboard.csv(key)};
        const link = document.querySelector('a[data-csv="' + key + '"]');
        link.click();
        charts[key].link = link.href.startsWith("blob:") ? await (await fetch(link.href)).text()
                                                         : "no blob: " + link.href;
        charts[key].file = link.download;
      }
      out.push(charts);
    }
  } catch (err) {
    out.push({error: String(err && err.stack || err)});
  }
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
});
</script>"""


def probe(page: Path, profile: Path, steps: list[dict[str, str]]) -> list[dict]:
    """What the page draws and exports after each step of filter inputs (``{}``: as loaded)."""
    probed = page.with_name(f"probed-{page.name}")  # beside the page: its scripts resolve
    script = PROBE % {"steps": json.dumps(steps)}
    probed.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = dump_doms({page.stem: probed}, profile)[page.stem]
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, f"{page.name}: the probe did not run"
    found = json.loads(html.unescape(match.group(1)))
    assert "error" not in found[-1], found[-1]["error"]
    return found


def js_text(value) -> str:
    """A mart value as the page's CSV writes it (JavaScript's String() of the JSON value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        value = float(value)
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def mart(warehouse: Path, sql: str) -> list[list[str]]:
    """The header and rows of ``sql`` over the warehouse, as the page's CSV writes them."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [names, *([js_text(v) for v in row] for row in cur.fetchall())]
    finally:
        con.close()


def parsed(text: str) -> list[list[str]]:
    assert text.endswith("\r\n"), "RFC 4180 ends every record with CRLF"
    unquoted = re.sub(r'"(?:[^"]|"")*"', "", text)
    assert "\n" not in unquoted.replace("\r\n", ""), "a bare line feed outside quotes"
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("filters")
    warehouse = build_warehouse(root / "warehouse.duckdb")
    pages = dashboards.render(warehouse, root / "out", rendered_at=RENDERED_AT)
    return {"warehouse": warehouse, "pages": pages, "root": root}


def test_the_month_range_redraws_the_monthly_charts_and_their_csv(site):
    before, after, everything = probe(
        site["pages"]["executive"],
        site["root"] / "chromium-dates",
        [{}, {"from": "2024-01", "to": "2024-02"}, {"from": "", "to": ""}],
    )
    assert before["revenue-orders"]["bars"] == 3  # 2023-06, 2024-01, 2024-02
    assert before["aov"]["points"] == 3
    assert after["revenue-orders"]["bars"] == 2  # 2023-06 is out of the range
    assert after["aov"]["points"] == 2
    assert after["revenue-orders"]["traces"] == [2, 2]  # revenue bars and the orders line
    assert after["states"]["bars"] == 3  # all months by definition: not a monthly chart
    assert parsed(after["aov"]["csv"]) == mart(
        site["warehouse"],
        "select * from mart.executive_months where month_start >= '2024-01-01' "
        "order by month_start",
    )
    assert everything["aov"]["points"] == 3  # an emptied range is no bound


def test_every_charts_csv_is_its_mart_rows_with_the_marts_column_names(site):
    wh = site["warehouse"]
    expected = {
        "executive": {
            "revenue-orders": "select * from mart.executive_months order by month_start",
            "growth": "select * from mart.executive_months where revenue_growth is not null "
            "order by month_start",
            "states": "select * from mart.executive_states order by revenue_rank, customer_state",
        },
        "customer": {
            "cohorts": "select * from mart.customer_cohorts order by cohort_month, months_since",
            "segments": "select * from mart.customer_segments",
            "repeat-churn": "select * from mart.customer_summary",
        },
        "product": {
            "categories": "select * from mart.product_categories "
            "order by revenue_rank, category limit 15",
        },
        "operational": {
            "stages": "select * from mart.operational_loads where ingest_date = '2024-02-20' "
            "order by entity",
            "rejects": "select * from mart.operational_rejects where ingest_date = '2024-02-20' "
            "order by entity, rule_name",
            "quality": "select * from mart.operational_daily where checks > 0 order by ingest_date",
            "durations": "select * from mart.operational_runs order by first_load_at",
        },
    }
    for name, charts in expected.items():
        (shown,) = probe(site["pages"][name], site["root"] / f"chromium-csv-{name}", [{}])
        for key, sql in charts.items():
            rows = mart(wh, sql)
            got = parsed(shown[key]["csv"])
            if key == "segments":  # the page orders segments by its own list
                got = [got[0], *sorted(got[1:])]
                rows = [rows[0], *sorted(rows[1:])]
            assert got == rows, f"{name}/{key}"
            assert len(rows) > 1, f"{name}/{key}: the mart has rows to compare"
            assert shown[key]["link"] == shown[key]["csv"], f"{name}/{key}: the Blob link"
            assert shown[key]["file"] == f"{name}-{key}.csv"


def test_the_state_filter_reduces_every_chart_to_that_states_rows(site):
    (everyone, sp) = probe(
        site["pages"]["executive"], site["root"] / "chromium-state", [{}, {"state": "SP"}]
    )
    wh = site["warehouse"]
    assert everyone["states"]["bars"] == 3
    assert sp["states"]["bars"] == 1
    assert parsed(sp["states"]["csv"]) == mart(
        wh, "select * from mart.executive_states where customer_state = 'SP'"
    )
    # The monthly charts plot SP's own months, from the mart by month and state.
    sp_months = mart(
        wh,
        "select * from mart.executive_monthly where customer_state = 'SP' order by month_start",
    )
    assert len(sp_months) - 1 == 2  # SP bought in 2024-01 and 2024-02 only
    assert sp["revenue-orders"]["bars"] == 2
    assert sp["aov"]["points"] == 2
    assert parsed(sp["aov"]["csv"]) == sp_months
    assert parsed(sp["revenue-orders"]["link"]) == sp_months
    # SP's growth: February against January, 200 against 150.
    assert parsed(sp["growth"]["csv"])[1:] == [
        r for r in sp_months[1:] if r[sp_months[0].index("revenue_growth")]
    ]
    assert sp["growth"]["bars"] == 1


def test_a_range_and_state_with_no_rows_say_so_and_export_the_header(site):
    (shown,) = probe(
        site["pages"]["executive"],
        site["root"] / "chromium-none",
        [{"state": "MG", "from": "2024-01"}],  # MG bought in 2023-06 only
    )
    assert shown["aov"]["points"] == 0
    assert shown["aov"]["empty_note"]
    header = mart(site["warehouse"], "select * from mart.executive_monthly limit 0")
    assert parsed(shown["aov"]["csv"]) == header


def test_the_operational_date_range_shows_its_latest_logical_date(site):
    (before, early) = probe(
        site["pages"]["operational"],
        site["root"] / "chromium-ops",
        [{}, {"to": "2024-02-19"}],
    )
    assert before["stages"]["bars"] == 12  # 3 entities x 4 stages on 2024-02-20
    assert before["stages"]["title"] == "Rows per stage and entity, 2024-02-20"
    assert early["stages"]["bars"] == 4  # orders only on 2024-02-19
    assert early["stages"]["title"] == "Rows per stage and entity, 2024-02-19"
    assert parsed(early["stages"]["csv"]) == mart(
        site["warehouse"], "select * from mart.operational_loads where ingest_date = '2024-02-19'"
    )
    assert before["quarantine"]["traces"] == [1, 3]  # one trace per logical date
    assert early["quarantine"]["traces"] == [1, 0]
    assert before["quality"]["traces"] == [2, 2, 2]  # passed, warnings, blocking: 2 dates each
    assert early["quality"]["traces"] == [1, 1, 1]


def test_the_cohort_chart_follows_the_month_range(site):
    (before, after) = probe(
        site["pages"]["customer"], site["root"] / "chromium-cohorts", [{}, {"from": "2024-01"}]
    )
    assert before["cohorts"]["traces"] == [3]  # cohorts 2023-06, 2024-01, 2024-02
    assert after["cohorts"]["traces"] == [2]
    assert parsed(after["cohorts"]["csv"]) == mart(
        site["warehouse"],
        "select * from mart.customer_cohorts where cohort_month >= '2024-01-01' "
        "order by cohort_month, months_since",
    )
    assert after["segments"]["csv"] == before["segments"]["csv"]  # all customers, always


def test_the_pages_say_what_the_filters_apply_to_and_what_the_tiles_show(site):
    notes = {
        name: re.search(r"data-filter-note>([^<]*)<", site["pages"][name].read_text()).group(1)
        for name in dashboards.DASHBOARDS
    }
    assert notes["executive"].startswith("The tiles are for all months and all states.")
    assert "no state filter" in notes["customer"]
    assert "no filters" in notes["product"]
    assert notes["operational"].startswith("The tiles are for the latest logical date loaded")
    text = site["pages"]["executive"].read_text()
    assert '<option value="SP">SP</option>' in text
    assert 'type="month" name="from" min="2023-06" max="2024-02"' in text
    assert "<select" not in site["pages"]["operational"].read_text()


def test_csv_quotes_commas_quotes_and_line_breaks_as_rfc_4180_says(tmp_path):
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", marts=False)
    odd = 'toys, "games"\nand more'
    wh = Warehouse(warehouse)
    try:
        wh.con.execute(
            "update dw.dim_product set category_name_english = ? where product_id = 'p2'", [odd]
        )
        for rel in MARTS:
            wh.run_sql_file(rel, CONTEXT)
    finally:
        wh.close()
    pages = dashboards.render(warehouse, tmp_path / "out", rendered_at=RENDERED_AT)
    (shown,) = probe(pages["product"], tmp_path / "chromium", [{}])
    text = shown["categories"]["csv"]
    # Quoted, its quotes doubled, its line feed kept inside the quotes.
    assert '\r\n"toys, ""games""\nand more",3,' in text
    assert parsed(text) == mart(
        warehouse, "select * from mart.product_categories order by revenue_rank, category"
    )
