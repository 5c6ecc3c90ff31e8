"""The four QuickSight dashboards (infra/modules/quicksight/dashboards.tf.json, generated from
tools/dwh_tools/quicksight_dashboards.py) against the data sets they read and the local pages
they mirror: every field is a column of its data set with a type fit for its role, each dashboard
shows the figures of its local page (same keys, same titles), and the file is current Terraform
JSON referring only to what the module declares."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from infra_support import MODULES, REPO_ROOT, locals_of, parse_module, variable_default

from dwh_tools import quicksight_dashboards as qs

sys.path.insert(0, str(REPO_ROOT / "tests" / "dashboards"))
from test_dashboards import RENDERED_AT, build_warehouse  # noqa: E402

GENERATED = MODULES / "quicksight" / "dashboards.tf.json"
NUMERIC = ("INTEGER", "DECIMAL")
VISUAL_KINDS = set(qs.VISUALS.values())
# Field blocks of a generated visual, by the types their column may have.
FIELD_TYPES = {
    "date_dimension_field": ("DATETIME",),
    "numerical_dimension_field": NUMERIC,
    "categorical_dimension_field": ("STRING",),
    "date_measure_field": ("DATETIME",),
    "categorical_measure_field": ("STRING",),
    "numerical_measure_field": NUMERIC,
}


def data_set_columns() -> dict[str, dict[str, str]]:
    return {
        key: {c["name"]: c["type"] for c in ds["columns"]}
        for key, ds in variable_default("quicksight", "datasets").items()
    }


def generated() -> dict:
    return json.loads(GENERATED.read_text())


def dashboards(doc: dict) -> dict[str, dict]:
    return doc["resource"]["aws_quicksight_dashboard"]


def sheet(body: dict) -> dict:
    (definition,) = body["definition"]
    (only,) = definition["sheets"]
    return only


def declared_data_sets(body: dict) -> dict[str, str]:
    """Identifier -> the var.datasets key its ARN comes from."""
    out = {}
    for d in body["definition"][0]["data_set_identifiers_declarations"]:
        found = re.fullmatch(
            r'\$\{aws_quicksight_data_set\.mart\["(\w+)"\]\.arn\}', d["data_set_arn"]
        )
        assert found, f"{d['identifier']}: data_set_arn is not a data set of this module"
        out[d["identifier"]] = found.group(1)
    return out


def visuals(body: dict) -> dict[str, dict]:
    """visual id -> the visual's block (whatever its kind)."""
    out = {}
    for entry in sheet(body)["visuals"]:
        ((kind, (block,)),) = entry.items()
        assert kind in VISUAL_KINDS, kind
        out[block["visual_id"]] = block
    return out


def fields(node, path: str = ""):
    """(path, field block kind, field block) of every data field under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FIELD_TYPES:
                for block in value:
                    yield f"{path}.{key}", key, block
            else:
                yield from fields(value, f"{path}.{key}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from fields(item, f"{path}[{n}]")


def column_problems(doc: dict, columns: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for slug, body in dashboards(doc).items():
        sets = declared_data_sets(body)
        for vid, block in visuals(body).items():
            for path, kind, f in fields(block["chart_configuration"]):
                (col,) = f["column"]
                where = f"{slug}.{vid}{path}"
                ds = sets.get(col["data_set_identifier"])
                if ds not in columns:
                    problems.append(f"{where}: undeclared data set {col['data_set_identifier']}")
                    continue
                typ = columns[ds].get(col["column_name"])
                if typ is None:
                    problems.append(f"{where}: no column {col['column_name']} in {ds}")
                elif typ not in FIELD_TYPES[kind]:
                    problems.append(
                        f"{where}: {col['column_name']} is {typ}, not {FIELD_TYPES[kind]}"
                    )
            for path, sort in _sorts(block):
                (col,) = sort["sort_by"]
                ds = sets[col["data_set_identifier"]]
                if columns[ds].get(col["column_name"]) not in NUMERIC:
                    problems.append(
                        f"{slug}.{vid}{path}: sorts by {col['column_name']}, not numeric"
                    )
    return problems


def _sorts(node, path: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "column_sort":
                for block in value:
                    yield f"{path}.{key}", block
            else:
                yield from _sorts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _sorts(item, f"{path}[{n}]")


def test_every_visual_field_is_a_column_of_its_data_set_fit_for_its_role():
    assert column_problems(generated(), data_set_columns()) == []
    assert qs.check(qs.DASHBOARDS, data_set_columns()) == []


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ('"column_name": "revenue_growth"', '"column_name": "revenue_growht"', "no column revenue_growht in executive_months"),
        ('"column_name": "rows_in"', '"column_name": "ingest_date"', "ingest_date is DATETIME, not ('INTEGER', 'DECIMAL')"),
        ('"column_name": "month_start"', '"column_name": "orders"', "orders is INTEGER, not ('DATETIME',)"),
    ],
)  # fmt: skip
def test_a_wrong_column_or_type_in_the_generated_file_is_named(old, new, error):
    broken = json.loads(GENERATED.read_text().replace(old, new, 1))
    problems = column_problems(broken, data_set_columns())
    assert any(error in p for p in problems), problems


def test_the_spec_refuses_a_field_naming_dashboard_figure_and_field(monkeypatch):
    columns = data_set_columns()
    executive = qs.DASHBOARDS["executive"]
    bad = qs.Figure(
        "chart",
        "aov",
        "Average order value by month",
        "line",
        "executive_months",
        (qs.Field("month_start", "value", "SUM"), qs.Field("average_order_valu", "value", "MAX")),
    )
    figures = tuple(bad if f.visual_id == "chart-aov" else f for f in executive.figures)
    broken = {"executive": qs.Dashboard("executive", "Executive", "", figures)}
    assert qs.check(broken, columns) == [
        "executive.chart-aov: field month_start (value): a numeric measure needs an INTEGER or "
        "DECIMAL column, is DATETIME",
        "executive.chart-aov: field average_order_valu (value): no column average_order_valu in "
        "data set executive_months",
    ]
    monkeypatch.setattr(qs, "DASHBOARDS", broken)
    with pytest.raises(qs.SpecError, match=r"quicksight_dashboards.py: executive.chart-aov"):
        qs.render(columns)


# ---- the same figures as the local pages ------------------------------------------------

LOCAL_KEYS = re.compile(r'data-(kpi|chart|table)="([\w-]+)"')
LOCAL_TITLES = {
    "kpi": re.compile(r'data-kpi="([\w-]+)">\s*<div class="label">([^<]*)</div>'),
    "chart": re.compile(r'<h2>([^<]*)</h2>\s*(?:<p class="about">[^<]*</p>\s*)?<div class="chart[^"]*" data-chart="([\w-]+)"'),
    "table": re.compile(r'<h2>([^<]*)</h2>\s*(?:<p class="about">[^<]*</p>\s*)?<(?:table|div class="nodata") data-table="([\w-]+)"'),
}  # fmt: skip
# The local titles end with the date or month they show ("Rows in, 2024-02-20"); the dashboards'
# titles are the same without it.
DATED = re.compile(r"[ ,(]*\d{4}-\d{2}(?:-\d{2})?\)?$")


def local_figures(page: Path) -> dict[str, str]:
    """visual id -> title of every KPI tile, chart and table of a rendered local page."""
    text = page.read_text()
    found = {}
    for match in LOCAL_TITLES["kpi"].finditer(text):
        found[f"kpi-{match.group(1)}"] = html.unescape(match.group(2))
    for element in ("chart", "table"):
        for match in LOCAL_TITLES[element].finditer(text):
            found[f"{element}-{match.group(2)}"] = html.unescape(match.group(1))
    keyed = {f"{e}-{k}" for e, k in LOCAL_KEYS.findall(text)}
    assert keyed == set(found), f"{page.name}: a figure's title was not found"
    return {vid: DATED.sub("", title) for vid, title in found.items()}


def quicksight_figures(body: dict) -> dict[str, str]:
    """visual id (or text box id) -> title of every element of a generated dashboard."""
    out = {vid: v["title"][0]["format_text"][0]["plain_text"] for vid, v in visuals(body).items()}
    for box in sheet(body).get("text_boxes", []):
        out[box["sheet_text_box_id"]] = box["content"].split(":")[0]
    return out


def airflow_metadata(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.executescript(
        """
        create table dag_run (dag_id text, run_id text, logical_date text);
        create table task_instance (dag_id text, run_id text, task_id text,
                                    start_date text, end_date text);
        insert into dag_run values ('ecommerce_dwh', 'scheduled__2024-02-20', '2024-02-20 00:00:00');
        insert into task_instance values
            ('ecommerce_dwh', 'scheduled__2024-02-20', 'crawl_raw',
             '2024-02-21 09:59:00.000000', '2024-02-21 09:59:02.500000');
        """
    )
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def local_pages(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """The four local pages rendered without and with the Airflow metadata."""
    from dwh_tools import dashboards as local

    root = tmp_path_factory.mktemp("local-pages")
    warehouse = build_warehouse(root / "warehouse.duckdb")
    db = airflow_metadata(root / "airflow.db")
    return {
        "warehouse only": local.render(warehouse, root / "plain", rendered_at=RENDERED_AT),
        "airflow metadata": local.render(
            warehouse, root / "airflow", airflow_db=db, rendered_at=RENDERED_AT
        ),
    }


def compare(pages: dict[str, Path], doc: dict, spec: dict[str, qs.Dashboard]) -> list[str]:
    """Differences between the local pages and the generated dashboards, per page and figure.

    A figure the local page shows only under a condition (``only_when``) is on the dashboard
    always; it must be on the local page when the condition holds (``conditional``) and may be
    missing only when it does not.
    """
    problems = []
    built = dashboards(doc)
    assert set(built) == set(spec) == {p for p in pages if p != "index"}
    for slug, page in pages.items():
        if slug == "index":
            continue
        local, remote = local_figures(page), quicksight_figures(built[slug])
        conditional = {f.visual_id for f in spec[slug].figures if f.only_when}
        for vid in sorted(set(remote) - set(local) - conditional):
            problems.append(f"{slug}: {vid} is on the QuickSight dashboard, not the local page")
        for vid in sorted(set(local) - set(remote)):
            problems.append(f"{slug}: {vid} is on the local page, not the QuickSight dashboard")
        for vid in sorted(set(local) & set(remote)):
            if local[vid] != remote[vid]:
                problems.append(
                    f"{slug}: {vid} is titled {local[vid]!r} here, {remote[vid]!r} there"
                )
    return problems


def test_each_dashboard_shows_the_figures_of_its_local_page(local_pages):
    for pages in local_pages.values():
        assert compare(pages, generated(), qs.DASHBOARDS) == []


def test_the_airflow_only_chart_is_on_the_local_page_with_metadata_and_explained_on_quicksight(
    local_pages,
):
    conditional = {
        (slug, f.visual_id) for slug, d in qs.DASHBOARDS.items() for f in d.figures if f.only_when
    }
    assert conditional == {("operational", "chart-tasks")}
    assert 'data-chart="tasks"' in local_pages["airflow metadata"]["operational"].read_text()
    assert 'data-chart="tasks"' not in local_pages["warehouse only"]["operational"].read_text()
    # No data set holds Airflow's task instances: the dashboard says so where the chart would be.
    body = dashboards(generated())["operational"]
    assert "chart-tasks" not in visuals(body)
    (box,) = [b for b in sheet(body)["text_boxes"] if b["sheet_text_box_id"] == "chart-tasks"]
    assert "not in the warehouse" in box["content"]
    laid_out = {e["element_id"]: e["element_type"] for e in _elements(body)}
    assert laid_out["chart-tasks"] == "TEXT_BOX"


def test_a_chart_added_to_a_local_page_only_is_reported(local_pages, tmp_path):
    page = tmp_path / "executive.html"
    page.write_text(
        local_pages["warehouse only"]["executive"]
        .read_text()
        .replace(
            '<section class="charts">\n',
            '<section class="charts">\n<div class="card"><h2>Freight by month</h2>'
            '<div class="chart" data-chart="freight"></div></div>\n',
        )
    )
    assert page.read_text().count('data-chart="freight"') == 1
    pages = {**local_pages["warehouse only"], "executive": page}
    assert compare(pages, generated(), qs.DASHBOARDS) == [
        "executive: chart-freight is on the local page, not the QuickSight dashboard"
    ]


def test_a_figure_the_local_page_leaves_out_is_reported(local_pages):
    extra = qs.Figure(
        "chart",
        "freight",
        "Freight by month",
        "line",
        "executive_months",
        (qs.Field("month_start", "date", granularity="MONTH"), qs.Field("freight", "value", "SUM")),
    )
    executive = qs.DASHBOARDS["executive"]
    spec = {
        **qs.DASHBOARDS,
        "executive": qs.Dashboard("executive", "Executive", "", (*executive.figures, extra)),
    }
    doc = json.loads(json.dumps(generated()))
    doc["resource"]["aws_quicksight_dashboard"]["executive"] = qs.dashboard_resource(
        spec["executive"], data_set_columns()
    )
    assert compare(local_pages["warehouse only"], doc, spec) == [
        "executive: chart-freight is on the QuickSight dashboard, not the local page"
    ]


def test_a_figure_qs_cannot_show_as_the_local_page_says_why_on_the_dashboard():
    for body in dashboards(generated()).values():
        for vid, block in visuals(body).items():
            note = block.get("//", "")
            subtitle = block.get("subtitle", [{}])[0].get("format_text", [{}])[0].get("plain_text")
            if note or subtitle:
                assert note == f"Differs from the local page: {subtitle}", vid
    limited = {f.visual_id for d in qs.DASHBOARDS.values() for f in d.figures if f.limitation}
    # The top state and category are names: a KPI visual shows numbers only.
    assert {"kpi-top_state", "kpi-top_category", "chart-tasks", "chart-stages"} <= limited


# ---- the generated file -------------------------------------------------------------------


def _elements(body: dict) -> list[dict]:
    (layout,) = sheet(body)["layouts"]
    return layout["configuration"][0]["grid_layout"][0]["elements"]


def test_the_generated_file_is_current_and_compile_check_reports_drift(monkeypatch, capsys):
    from dwh_tools import cli

    assert GENERATED.read_text() == qs.render()
    assert cli.main(["compile", "--check"]) == 0
    real = qs.render
    monkeypatch.setattr(qs, "render", lambda: real().replace("Top state", "Best state"))
    assert cli.main(["compile", "--check"]) == 1
    assert "drift infra/modules/quicksight/dashboards.tf.json" in capsys.readouterr().err


def test_the_generated_file_is_terraform_json_referring_only_to_what_the_module_declares():
    doc = generated()
    assert GENERATED.name.endswith(".tf.json")  # Terraform reads it as JSON configuration
    assert set(doc) == {"//", "locals", "resource"}
    assert "bin/dwh compile" in doc["//"]
    assert set(doc["resource"]) == {"aws_quicksight_dashboard"}
    module = parse_module("quicksight")
    variables = {name for entry in module["variable"] for name in entry}
    local_names = set(locals_of("quicksight")) | set(doc["locals"])
    data_sets = set(data_set_columns())
    text = GENERATED.read_text()
    for ref in re.findall(r"\$\{([^}]*)\}", text):
        if m := re.fullmatch(r"var\.(\w+)", ref):
            assert m.group(1) in variables, ref
        elif m := re.fullmatch(r"local\.(\w+)", ref):
            assert m.group(1) in local_names, ref
        elif m := re.fullmatch(r'aws_quicksight_data_set\.mart\[\\"(\w+)\\"\]\.arn', ref):
            assert m.group(1) in data_sets, ref
        elif m := re.fullmatch(r"aws_quicksight_dashboard\.(\w+)", ref):
            assert m.group(1) in dashboards(doc), ref
        else:
            assert re.fullmatch(r"permissions\.value\.(principal|actions)", ref), ref
    assert not re.search(r"arn:aws|\b\d{12}\b", text), "no ARN or account id literal"
    for slug, body in dashboards(doc).items():
        # Arguments the provider requires of aws_quicksight_dashboard.
        assert {"dashboard_id", "name", "version_description"} <= set(body), slug
        assert body["dashboard_id"] == "${var.name_prefix}-" + slug
        ids = [e["element_id"] for e in _elements(body)]
        placed = set(visuals(body)) | {
            b["sheet_text_box_id"] for b in sheet(body).get("text_boxes", [])
        }
        assert sorted(ids) == sorted(placed), f"{slug}: every visual is laid out once"
        for e in _elements(body):
            column = int(e["column_index"])
            assert column >= 0 and column + e["column_span"] <= qs.GRID_COLUMNS
            assert 1 <= e["row_span"] <= 21
        for vid in ids:
            assert re.fullmatch(r"[\w-]+", vid), vid  # QuickSight's id pattern


def test_dashboard_permissions_give_owners_the_documented_actions_and_viewers_read_only():
    local = locals_of("quicksight")
    owners, viewers = local["dashboard_owner_actions"], local["dashboard_viewer_actions"]
    assert set(owners) == {
        "quicksight:DescribeDashboard",
        "quicksight:ListDashboardVersions",
        "quicksight:UpdateDashboardPermissions",
        "quicksight:QueryDashboard",
        "quicksight:UpdateDashboard",
        "quicksight:DeleteDashboard",
        "quicksight:DescribeDashboardPermissions",
        "quicksight:UpdateDashboardPublishedVersion",
    }
    assert set(viewers) == {
        "quicksight:DescribeDashboard",
        "quicksight:ListDashboardVersions",
        "quicksight:QueryDashboard",
    }
    assert variable_default("quicksight", "viewer_principal_arns") == []
    permissions = str(local["dashboard_permissions"])
    assert "var.owner_principal_arns" in permissions and "var.viewer_principal_arns" in permissions
    for body in dashboards(generated()).values():
        assert body["dynamic"]["permissions"]["for_each"] == "${local.dashboard_permissions}"
    outputs = {name for entry in parse_module("quicksight")["output"] for name in entry}
    assert {"dashboard_ids", "dashboard_arns"} <= outputs
