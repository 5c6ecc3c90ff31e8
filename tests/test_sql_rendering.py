"""Every Jinja environment that renders the product's templates is sandboxed.

Check SQL and notify messages are built from pipeline-file values and rendered as templates;
validation refuses template syntax in those values, and the renderer itself cannot reach Python
internals even if some did get through.
"""

from __future__ import annotations

import jinja2.sandbox
import pytest
from jinja2.exceptions import SecurityError

from dwh.sql import render


def test_the_renderer_refuses_python_internals(tmp_path):
    marker = tmp_path / "ran"
    payload = '{{ cycler.__init__.__globals__.os.popen("touch ' + str(marker) + '").read() }}'
    with pytest.raises(SecurityError):
        render(payload, {})
    assert not marker.exists()


def test_the_renderer_refuses_attribute_walks_from_context_values():
    with pytest.raises(SecurityError):
        render("{{ ds.__class__.__mro__[1].__subclasses__() }}", {"ds": "2024-01-01"})


def test_the_renderer_still_renders_the_templating_contract():
    sql = "select '{{ ds }}', '{{ run_id }}'{% if processed_uri %}, 1{% endif %}"
    assert render(sql, {"ds": "2024-01-01", "run_id": "r", "processed_uri": "s3://p"}) == (
        "select '2024-01-01', 'r', 1"
    )


def test_the_dashboards_render_in_a_sandbox():
    from dwh_tools.dashboards.report import template_environment

    env = template_environment()
    assert isinstance(env, jinja2.sandbox.SandboxedEnvironment)
    assert env.autoescape


def test_airflow_renders_the_aws_dags_in_a_sandbox():
    """The aws operators' SQL and messages are rendered by Airflow, not by dwh.sql: its DAG
    environment must be the sandboxed one (render_template_as_native_obj would not be)."""
    from dwh import config
    from dwh.compile_airflow import build_dag
    from dwh.graph import load_pipeline

    dag = build_dag(load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml"), "aws")
    assert isinstance(dag.get_template_env(), jinja2.sandbox.SandboxedEnvironment)
