"""The dashboards over a tiny hand-made warehouse, opened in headless Chromium.

The warehouse is built from the real DDL and mart SQL with a handful of rows whose figures are
worked out by hand below. Every page is loaded in Chromium with name resolution switched off, and
each chart's container must hold plotted marks (bars, points, lines, pie slices, heatmap image);
with figures in the millions every KPI tile must still show its whole figure. Without a browser
(``dwh_tools.dashboards.browser``) the browser tests skip, saying what to install.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from quarantine_files import write_quarantine

from dwh import config
from dwh_tools import dashboards
from dwh_tools.dashboards import browser, fmt
from dwh_tools.local_target.warehouse import Warehouse

MARTS = ("mart/executive.sql", "mart/customer.sql", "mart/product.sql", "mart/operational.sql")
CONTEXT = {"ds": "2024-02-20", "run_id": "scheduled__2024-02-20", "processed_uri": "unused"}
RENDERED_AT = dt.datetime(2024, 2, 21, 6, 30, tzinfo=dt.UTC)

# Four people, six orders (o5 canceled), seven items in two categories, two logical dates.
ROWS = """
insert into dw.dim_date values
    (20230615, '2023-06-15', 2023, 6, '2023-06-01', 4, false),
    (20240110, '2024-01-10', 2024, 1, '2024-01-01', 3, false),
    (20240205, '2024-02-05', 2024, 2, '2024-02-01', 1, false),
    (20240220, '2024-02-20', 2024, 2, '2024-02-01', 2, false);
insert into dw.dim_customer values
    ('k1', 'u1', '01000', 'sao paulo', 'SP', 'h1', '2020-01-01', '9999-12-31', true),
    ('k2', 'u2', '20000', 'rio de janeiro', 'RJ', 'h2', '2020-01-01', '9999-12-31', true),
    ('k3', 'u3', '01001', 'sao paulo', 'SP', 'h3', '2020-01-01', '9999-12-31', true),
    ('k4', 'u4', '30000', 'belo horizonte', 'MG', 'h4', '2020-01-01', '9999-12-31', true);
insert into dw.dim_product values
    ('p1', 'cama_mesa_banho', 'bed_bath_table', 500, 1),
    ('p2', 'brinquedos', 'toys', 300, 2);
insert into dw.dim_seller values ('s1', '01000', 'sao paulo', 'SP');
insert into dw.fact_orders values
    ('o1', 20240110, 'k1', 'u1', 'SP', 'delivered', '2024-01-10 10:00', null, null, 5, true, '2024-02-20'),
    ('o2', 20240110, 'k2', 'u2', 'RJ', 'delivered', '2024-01-10 11:00', null, null, 9, false, '2024-02-20'),
    ('o3', 20240220, 'k1', 'u1', 'SP', 'delivered', '2024-02-20 09:00', null, null, 3, true, '2024-02-20'),
    ('o4', 20240205, 'k3', 'u3', 'SP', 'delivered', '2024-02-05 12:00', null, null, 4, true, '2024-02-20'),
    ('o5', 20240205, 'k2', 'u2', 'RJ', 'canceled', '2024-02-05 13:00', null, null, null, null, '2024-02-20'),
    ('o6', 20230615, 'k4', 'u4', 'MG', 'delivered', '2023-06-15 08:00', null, null, 6, true, '2024-02-20');
insert into dw.fact_order_items
    (order_id, order_item_id, order_date_key, customer_key, customer_unique_id, product_id,
     product_key, seller_id, seller_key, order_status, purchased_at, price, freight_value,
     delivery_days, is_on_time, ingest_date)
values
    ('o1', 1, 20240110, 'k1', 'u1', 'p1', 'p1', 's1', 's1', 'delivered', '2024-01-10 10:00', 100, 10, 5, true, '2024-02-20'),
    ('o1', 2, 20240110, 'k1', 'u1', 'p2', 'p2', 's1', 's1', 'delivered', '2024-01-10 10:00', 50, 5, 5, true, '2024-02-20'),
    ('o2', 1, 20240110, 'k2', 'u2', 'p1', 'p1', 's1', 's1', 'delivered', '2024-01-10 11:00', 200, 20, 9, false, '2024-02-20'),
    ('o3', 1, 20240220, 'k1', 'u1', 'p2', 'p2', 's1', 's1', 'delivered', '2024-02-20 09:00', 80, 8, 3, true, '2024-02-20'),
    ('o4', 1, 20240205, 'k3', 'u3', 'p1', 'p1', 's1', 's1', 'delivered', '2024-02-05 12:00', 120, 12, 4, true, '2024-02-20'),
    ('o5', 1, 20240205, 'k2', 'u2', 'p2', 'p2', 's1', 's1', 'canceled', '2024-02-05 13:00', 30, 3, null, null, '2024-02-20'),
    ('o6', 1, 20230615, 'k4', 'u4', 'p2', 'p2', 's1', 's1', 'delivered', '2023-06-15 08:00', 40, 4, 6, true, '2024-02-20');
insert into dw.fact_reviews values
    ('r1', 'o1', 5, false, null, null, true, '2024-02-20'),
    ('r2', 'o2', 1, true, null, null, true, '2024-02-20'),
    ('r3', 'o3', 4, false, null, null, true, '2024-02-20'),
    ('r4', 'o4', 3, false, null, null, true, '2024-02-20');
insert into ops.load_log
    (run_id, ingest_date, entity, rows_in, rows_out, rows_quarantined, rows_loaded,
     rejected_by_rule, loaded_at)
values
    ('scheduled__2024-02-19', '2024-02-19', 'orders', 80, 79, 1, 79, '{}', '2024-02-20 09:00:00'),
    ('scheduled__2024-02-20', '2024-02-20', 'orders', 100, 96, 4, 96, '{}', '2024-02-21 10:00:00'),
    ('scheduled__2024-02-20', '2024-02-20', 'order_items', 200, 200, 0, 200, '{}', '2024-02-21 10:00:05'),
    ('scheduled__2024-02-20', '2024-02-20', 'customers', 50, 48, 2, 47, '{}', '2024-02-21 10:00:10');
insert into ops.quality_results values
    ('scheduled__2024-02-19', '2024-02-19', 'check_warehouse', 'orders_grain_unique', 'unique', 'dw.fact_orders', 0, 0, 'pass', 'block', '2024-02-20 09:00:12'),
    ('manual__2024-02-20', '2024-02-20', 'check_warehouse', 'items_order_known', 'orphans', 'dw.fact_order_items', 0, 0.05, 'pass', 'warn', '2024-02-21 08:00:00'),
    ('scheduled__2024-02-20', '2024-02-20', 'check_warehouse', 'orders_grain_unique', 'unique', 'dw.fact_orders', 0, 0, 'pass', 'block', '2024-02-21 10:00:30'),
    ('scheduled__2024-02-20', '2024-02-20', 'check_warehouse', 'items_order_known', 'orphans', 'dw.fact_order_items', 0.2, 0.05, 'fail', 'warn', '2024-02-21 10:00:30'),
    ('scheduled__2024-02-20', '2024-02-20', 'check_warehouse', 'reconciled_orders', 'reconciliation', 'orders', 0, 0, 'pass', 'block', '2024-02-21 10:00:30');
"""

# Worked out by hand from ROWS (canceled orders leave the revenue of every mart, as on the
# executive dashboard; cohorts still count them as activity). What each tile shows; its tooltip
# shows the same but for the figures in EXPECTED_EXACT.
EXPECTED_KPIS = {
    "executive": {
        "revenue": "R$ 590",  # 150 + 200 (Jan) + 200 (Feb) + 40 (2023-06)
        "orders": "5",  # o1, o2, o3, o4, o6
        "aov": "R$ 118.00",  # 590 / 5
        # February, the run date's month, is not whole: the tile shows January, against a
        # December that sold nothing (Feb 200 against Jan 350 would read -42.9%).
        "mom_growth": "—",
        "top_state": "SP",  # 350 of 590
    },
    "customer": {
        "customers": "4",
        "repeat_rate": "25.0%",  # u1 only
        "churn_share": "25.0%",  # u4: 250 days before the last order
        "average_ltv": "R$ 162.25",  # (253 + 220 + 132 + 44) / 4
        "median_ltv": "R$ 176.00",  # (132 + 220) / 2
    },
    "product": {
        "categories": "2",
        "revenue": "R$ 590",  # bed_bath_table 420 + toys 170 (o5 canceled)
        "top_category": "bed_bath_table",
        "freight_share": "9.1%",  # 59 / 649
        "review_score": "3.75",  # (3.0 * 3 items + 4.5 * 3 items) / 6
        "on_time_rate": "83.3%",  # (2/3 * 3 + 1.0 * 3) / 6
    },
    "operational": {
        "logical_dates": "2",
        "rows_in": "350",
        "quarantine_rate": "1.71%",  # 6 / 350
        "reconciled": "2 / 3",  # customers: 48 clean but 47 loaded
        "checks": "2 / 3",  # the manual re-run's pass is superseded by the later fail
        "duration": "30.0 s",  # first load 10:00:00, last check 10:00:30
    },
}

# The tooltips of tiles whose figure is rounded on the tile (money to whole reais).
EXPECTED_EXACT = {
    "executive": {"revenue": "R$ 590.00"},
    "product": {"revenue": "R$ 590.00"},
}

# Plotted marks each chart must show at least (bars, points, slices or heatmap images).
EXPECTED_MARKS = {
    "executive": {"revenue-orders": 6, "aov": 3, "growth": 1, "states": 3},
    "customer": {"segments": 6, "cohorts": 1, "repeat-churn": 4, "ltv": 2},
    "product": {"categories": 2, "freight": 2, "reviews": 2, "ontime": 2},
    "operational": {"stages": 12, "quarantine": 4, "rejects": 3, "quality": 2, "durations": 2},
}
# Quarantine files behind mart.operational_rejects (read from the files, not from ROWS' ops rows).
QUARANTINE = (
    ("orders", "2024-02-19", {"duplicate_key": 2}),
    ("orders", "2024-02-20", {"bad_timestamp": 2, "unknown_enum": 1}),
    ("customers", "2024-02-20", {"required_missing": 1}),
)


def build_warehouse(path: Path, rows: str | None = ROWS, marts: bool = True) -> Path:
    wh = Warehouse(path)
    try:
        wh.ensure_schema()
        if rows:
            for statement in rows.split(";"):
                if statement.strip():
                    wh.con.execute(statement)
        processed = path.parent / "processed"
        if rows:
            for entity, ds, rules in QUARANTINE:
                write_quarantine(processed, entity, ds, rules)
        if marts:
            for rel in MARTS:
                wh.run_sql_file(rel, {**CONTEXT, "processed_uri": str(processed)})
    finally:
        wh.close()
    return path


def chromium() -> str:
    found = browser.find()
    if found is None:
        pytest.skip(browser.missing())
    return found


def dump_doms(pages: dict[str, Path], profile: Path, width: int = 1400) -> dict[str, str]:
    """Each page's DOM after its scripts ran, with every host name unresolvable (no network)."""
    exe = chromium()
    procs = {}
    for name, page in pages.items():
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile / name}",
            f"--window-size={width},2000",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ]
        procs[name] = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    doms = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"chromium failed on {name}: {err[-2000:]}"
        doms[name] = out
    return doms


class ChartMarks(HTMLParser):
    """Counts plotted marks inside every ``data-chart`` container of a rendered DOM.

    Plotly draws a bar as ``<g class="point"><path d=...>``, a marker as ``<path class="point">``,
    a line as ``<path class="js-line">``, a pie slice as ``<path class="surface">`` and a heatmap
    as one ``<image href="data:...">``.
    """

    MARK_CLASSES = ("point", "js-line", "surface")

    def __init__(self):
        super().__init__()
        self.marks: dict[str, Counter] = {}
        self.empty: set[str] = set()
        self._chart: str | None = None
        self._depth = 0
        self._bar = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and "data-chart" in a:
            self._chart, self._depth = a["data-chart"], 0
            self.marks[self._chart] = Counter()
            if "data-empty" in a:
                self.empty.add(self._chart)
        if self._chart is None:
            return
        if tag == "div":
            self._depth += 1
        classes = (a.get("class") or "").split()
        if tag == "g" and "point" in classes:  # a bar: <g class="point"><path d="..."/></g>
            self._bar = True
            return
        drawn = (a.get("d") or "").strip() not in ("", "M0,0Z")
        if tag == "path" and drawn:
            if self._bar:
                self.marks[self._chart]["bar"] += 1
            for cls in self.MARK_CLASSES:
                if cls in classes:
                    self.marks[self._chart][cls] += 1
        self._bar = False
        if tag == "image" and (a.get("href") or a.get("xlink:href") or "").startswith("data:"):
            self.marks[self._chart]["image"] += 1

    def handle_endtag(self, tag):
        if self._chart is not None and tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self._chart = None


def chart_marks(dom: str) -> ChartMarks:
    parser = ChartMarks()
    parser.feed(dom)
    return parser


KPI_TILE = re.compile(
    r'data-kpi="([\w-]+)">\s*<div class="label">.*?<div class="value[^"]*" title="([^"]*)">'
    r"([^<]*)</div>",
    re.S,
)


def kpi_tiles(page_html: str) -> dict[str, tuple[str, str]]:
    """Each KPI tile's figure and its tooltip."""
    return {
        key: (html.unescape(text), html.unescape(title))
        for key, title, text in KPI_TILE.findall(page_html)
    }


def kpis(page_html: str) -> dict[str, str]:
    return {key: text for key, (text, _) in kpi_tiles(page_html).items()}


# Run in each page once it has loaded: every KPI tile's figure, tooltip and whether the figure
# fits its box (an ellipsis or a spill past the tile's edge both make scrollWidth exceed it).
MEASURE_TILES = """<script>
addEventListener("load", () => {
  const tiles = [...document.querySelectorAll("[data-kpi]")].map((tile) => {
    const value = tile.querySelector(".value");
    return {key: tile.dataset.kpi, text: value.textContent.trim(), title: value.title,
            scroll: value.scrollWidth, client: value.clientWidth,
            tile_scroll: tile.scrollWidth, tile_client: tile.clientWidth};
  });
  const out = document.createElement("pre");
  out.id = "kpi-tiles";
  out.textContent = JSON.stringify(tiles);
  document.body.append(out);
});
</script>"""


def measure_tiles(pages: dict[str, Path], profile: Path, width: int) -> dict[str, list[dict]]:
    """Each page's KPI tiles as laid out by Chromium in a window ``width`` pixels wide."""
    probes = {}
    for name, page in pages.items():
        probe = page.with_name(f"measured-{name}.html")  # beside the page: plotly.min.js resolves
        probe.write_text(page.read_text().replace("</body>", MEASURE_TILES + "</body>"))
        probes[name] = probe
    doms = dump_doms(probes, profile, width)
    found = {}
    for name, dom in doms.items():
        match = re.search(r'<pre id="kpi-tiles">(.*?)</pre>', dom, re.S)
        assert match, f"{name}: the tiles were not measured"
        found[name] = json.loads(html.unescape(match.group(1)))
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("dashboards")
    warehouse = build_warehouse(root / "warehouse.duckdb")
    pages = dashboards.render(warehouse, root / "out", rendered_at=RENDERED_AT)
    return {"warehouse": warehouse, "pages": pages, "root": root}


@pytest.fixture(scope="module")
def browser_doms(report):
    """The four pages' DOMs, dumped once on the first call.

    Called from the tests, not dumped here: a skip for a missing browser raised while a test runs
    is reported at the one place it is raised, so every browser test's skip reads as one line.
    """
    dumped: dict[str, str] = {}

    def doms() -> dict[str, str]:
        if not dumped:
            charts = {name: report["pages"][name] for name in dashboards.DASHBOARDS}
            dumped.update(dump_doms(charts, report["root"] / "chromium"))
        return dumped

    return doms


def test_render_writes_an_index_and_four_pages_beside_one_plotly_bundle(report):
    pages = report["pages"]
    assert list(pages) == ["index", *dashboards.DASHBOARDS]
    out = pages["index"].parent
    assert (out / dashboards.PLOTLY_JS).stat().st_size > 1_000_000
    index = pages["index"].read_text()
    for name in dashboards.DASHBOARDS:
        assert f'href="{name}.html"' in index
        assert f'<script src="{dashboards.PLOTLY_JS}"></script>' in pages[name].read_text()


@pytest.mark.parametrize("name", dashboards.DASHBOARDS)
def test_every_chart_is_plotted_with_data_in_chromium(browser_doms, name):
    doms = browser_doms()
    found = chart_marks(doms[name])
    assert not found.empty, f"{name}: charts without data: {sorted(found.empty)}"
    for chart, least in EXPECTED_MARKS[name].items():
        assert chart in found.marks, f"{name}: no chart container {chart!r}"
        total = sum(found.marks[chart].values())
        assert total >= least, f"{name}/{chart}: {dict(found.marks[chart])}, expected {least}+"
    # Plotly replaced every container's placeholder div with a drawn plot.
    assert doms[name].count("js-plotly-plot") >= len(EXPECTED_MARKS[name])


def test_marks_match_the_rows_they_plot(browser_doms):
    doms = browser_doms()
    executive = chart_marks(doms["executive"]).marks
    assert executive["states"]["bar"] == 3  # SP, RJ, MG
    assert executive["growth"]["bar"] == 1  # only Feb has a previous calendar month
    assert executive["revenue-orders"]["bar"] == 3  # 2023-06, 2024-01, 2024-02
    customer = chart_marks(doms["customer"]).marks
    assert customer["cohorts"]["image"] == 1  # the heatmap is drawn as one image
    assert customer["repeat-churn"]["surface"] == 4  # two donuts of two slices
    operational = chart_marks(doms["operational"]).marks
    assert operational["stages"]["bar"] == 12  # 3 entities x 4 stages
    assert operational["rejects"]["bar"] == 3  # 2024-02-20: two orders rules, one customers
    product = chart_marks(doms["product"]).marks
    assert product["ontime"]["point"] == 2  # one bubble per category


@pytest.mark.parametrize("name", dashboards.DASHBOARDS)
def test_kpi_tiles_show_the_hand_computed_figures(report, name):
    tiles = kpi_tiles(report["pages"][name].read_text())
    assert {key: text for key, (text, _) in tiles.items()} == EXPECTED_KPIS[name]
    exact = {**EXPECTED_KPIS[name], **EXPECTED_EXACT.get(name, {})}
    assert {key: title for key, (_, title) in tiles.items()} == exact


@pytest.mark.parametrize(
    ("value", "tile"),
    [
        (949_999.99, "R$ 949,999.99"),  # under a million: the whole figure fits a tile
        (13_482_090, "R$ 13.5 M"),
        (999_960_000, "R$ 1.0 B"),  # never "1,000.0 M"
        (-2_500_000, "R$ -2.5 M"),
        (None, dashboards.NONE),
    ],
)
def test_a_tile_rounds_money_from_a_million_up(value, tile):
    assert fmt.short_money(value) == tile


# The hand-made figures times these, so that the tiles hold millions, as at Olist's size.
MONEY_FACTOR, ROWS_FACTOR = 22_851, 10_000
# What the tiles show with those figures, and their tooltips' exact figures.
MILLIONS = {
    "executive": {
        "revenue": ("R$ 13.5 M", "R$ 13,482,090.00"),  # 590 x 22,851
        "aov": ("R$ 2.7 M", "R$ 2,696,418.00"),  # 118 x 22,851
    },
    "customer": {
        "average_ltv": ("R$ 3.7 M", "R$ 3,707,574.75"),  # 162.25 x 22,851
        "median_ltv": ("R$ 4.0 M", "R$ 4,021,776.00"),  # 176 x 22,851
    },
    "product": {"revenue": ("R$ 13.5 M", "R$ 13,482,090.00")},
    "operational": {"rows_in": ("3.5 M", "3,500,000")},  # 350 x 10,000
}


@pytest.fixture(scope="module")
def millions(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("millions")
    warehouse = build_warehouse(root / "warehouse.duckdb", marts=False)
    wh = Warehouse(warehouse)
    try:
        wh.con.execute(
            f"update dw.fact_order_items set price = price * {MONEY_FACTOR}, "
            f"freight_value = freight_value * {MONEY_FACTOR}"
        )
        wh.con.execute(
            f"update ops.load_log set rows_in = rows_in * {ROWS_FACTOR}, "
            f"rows_out = rows_out * {ROWS_FACTOR}, "
            f"rows_quarantined = rows_quarantined * {ROWS_FACTOR}, "
            f"rows_loaded = rows_loaded * {ROWS_FACTOR}"
        )
        for rel in MARTS:
            wh.run_sql_file(rel, CONTEXT)
    finally:
        wh.close()
    pages = dashboards.render(warehouse, root / "out", rendered_at=RENDERED_AT)
    return {name: pages[name] for name in dashboards.DASHBOARDS}


def test_kpi_tiles_show_whole_figures_in_the_millions(millions, tmp_path):
    # A laptop's 1280 pixels: six tiles a row, each just above the grid's 190-pixel minimum.
    measured = measure_tiles(millions, tmp_path / "chromium", width=1280)
    for name, tiles in measured.items():
        assert [t["key"] for t in tiles] == list(EXPECTED_KPIS[name]), name
        for t in tiles:
            where = f"{name}/{t['key']}: {t['text']!r}"
            assert t["scroll"] <= t["client"], f"{where} is cut ({t['scroll']} > {t['client']})"
            assert t["tile_scroll"] <= t["tile_client"], f"{where} spills out of its tile"
        shown = {t["key"]: (t["text"], t["title"]) for t in tiles}
        for key, figure in MILLIONS[name].items():
            assert shown[key] == figure, f"{name}/{key}"


def test_pages_load_nothing_from_the_network(report):
    for name, page in report["pages"].items():
        text = page.read_text()
        assert not re.search(r"https?://", text), f"{name} names a network address"
        for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
            assert (page.parent / ref).is_file(), f"{name}: {ref} is not beside the page"


def test_every_page_states_the_logical_dates_and_when_it_was_rendered(report):
    for name, page in report["pages"].items():
        text = page.read_text()
        assert "Logical dates 2024-02-19 to 2024-02-20" in text, name
        assert "orders purchased 2023-06 to 2024-02" in text, name
        assert "rendered 2024-02-21 06:30 UTC" in text, name


def test_rendering_leaves_the_warehouse_untouched(report, tmp_path):
    before = report["warehouse"].read_bytes()
    dashboards.render(report["warehouse"], tmp_path / "again", rendered_at=RENDERED_AT)
    assert report["warehouse"].read_bytes() == before
    for name in dashboards.DASHBOARDS:
        assert (tmp_path / "again" / f"{name}.html").read_text() == report["pages"][
            name
        ].read_text()


@pytest.mark.parametrize("marts", [True, False], ids=["empty marts", "marts not built"])
def test_an_empty_warehouse_says_no_data(tmp_path, marts):
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", rows=None, marts=marts)
    pages = dashboards.render(warehouse, tmp_path / "out", rendered_at=RENDERED_AT)
    reason = "has no rows yet" if marts else "does not exist yet"
    for name in dashboards.DASHBOARDS:
        text = pages[name].read_text()
        assert "No data" in text and reason in text, name
        found = chart_marks(text)
        assert found.marks and found.empty == set(found.marks), name
        assert "No logical date loaded yet" in text
        assert set(kpis(text).values()) == {dashboards.NONE}, name


def test_a_chart_without_rows_says_why_while_the_page_keeps_its_figures(tmp_path):
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb")
    wh = Warehouse(warehouse)
    try:  # only February 2024 is left: no month before it to grow from
        wh.con.execute("delete from dw.fact_order_items where order_date_key < 20240201")
    finally:
        wh.close()
    pages = dashboards.render(warehouse, tmp_path / "out", rendered_at=RENDERED_AT)
    text = pages["executive"].read_text()
    assert chart_marks(text).empty == {"growth"}
    assert "No data: growth needs revenue in two consecutive months." in text
    assert 'class="banner"' not in text
    assert kpis(text)["revenue"] == "R$ 200"  # o3 80 + o4 120; o5 is canceled
    assert kpis(text)["mom_growth"] == dashboards.NONE


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse to render dashboards from"):
        dashboards.render(tmp_path / "nothing.duckdb", tmp_path / "out")


def test_run_durations_come_from_the_airflow_metadata_when_given(report, tmp_path):
    db = tmp_path / "airflow.db"
    con = sqlite3.connect(db)
    con.executescript(
        """
        create table dag_run (dag_id text, run_id text, logical_date text);
        create table task_instance (dag_id text, run_id text, task_id text,
                                    start_date text, end_date text);
        insert into dag_run values ('ecommerce_dwh', 'scheduled__2024-02-20', '2024-02-20 00:00:00');
        insert into task_instance values
            ('ecommerce_dwh', 'scheduled__2024-02-20', 'crawl_raw',
             '2024-02-21 09:59:00.000000', '2024-02-21 09:59:02.500000'),
            ('ecommerce_dwh', 'scheduled__2024-02-20', 'refresh_marts',
             '2024-02-21 09:59:40.000000', '2024-02-21 09:59:42.000000');
        """
    )
    con.commit()
    con.close()
    pages = dashboards.render(
        report["warehouse"], tmp_path / "out", airflow_db=db, rendered_at=RENDERED_AT
    )
    text = pages["operational"].read_text()
    assert kpis(text)["duration"] == "42.0 s"
    assert 'data-chart="tasks"' in text and "Wall time of each Airflow run" in text


def test_python_dash_m_writes_the_dashboards_under_dwh_home(report, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(report["warehouse"], home / "warehouse.duckdb")
    env = {
        **os.environ,
        "DWH_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(config.local_pythonpath()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "dwh_tools.dashboards"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = home / "dashboards"
    for name in ("index", *dashboards.DASHBOARDS):
        assert (out / f"{name}.html").is_file()
        assert str(out / f"{name}.html") in done.stdout
    assert (out / dashboards.PLOTLY_JS).is_file()


def test_main_reports_a_missing_warehouse(tmp_path, capsys):
    assert dashboards.main(["--warehouse", str(tmp_path / "none.duckdb")]) == 1
    assert "run the pipeline first" in capsys.readouterr().err
