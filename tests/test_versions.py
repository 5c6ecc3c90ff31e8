"""Platform versions live in plugins/dwh/versions.py; every file that names one must agree."""

from __future__ import annotations

import re

from dwh import config, versions


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([\w.]+)", line.strip())
        if m:
            found[m.group(1).split("[")[0].lower()] = m.group(2)
    return found


def test_mwaa_requirements_pin_the_platform_providers_and_the_constraints_file():
    text = (config.REPO_ROOT / "requirements.txt").read_text()
    assert f'--constraint "{versions.MWAA_CONSTRAINTS_URL}"' in text
    assert pins(config.REPO_ROOT / "requirements.txt") == versions.PROVIDERS
    # MWAA installs Airflow itself; requirements.txt must not try to.
    assert "apache-airflow==" not in text


def test_local_requirements_match_mwaa():
    local = pins(config.REPO_ROOT / "requirements-local.txt")
    assert local["apache-airflow"] == versions.AIRFLOW
    for name, version in versions.PROVIDERS.items():
        assert local[name] == version, name
    assert local["pyspark"] == versions.PYSPARK


def test_installed_airflow_is_the_pinned_one():
    from importlib.metadata import version

    assert version("apache-airflow") == versions.AIRFLOW
    for name, pinned in versions.PROVIDERS.items():
        assert version(name) == pinned, name
    assert version("pyspark") == versions.PYSPARK
