"""The Glue jobs and the staging load make the same rows as before the local run was sped up.

tests/fixtures/output_digests.json was written by the code as it was before the speed-up
(``python tests/glue/output_digests.py tests/fixtures/output_digests.json`` at that commit), from
the same seeded input: digests of the canonical row content (column names and types, every row as
text, sorted) of each entity's processed Parquet, quarantine and staging table, and of its metrics
record. Any change to what a job keeps, rejects, numbers or counts changes a digest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import output_digests  # noqa: E402

EXPECTED = Path(__file__).resolve().parents[1] / "fixtures" / "output_digests.json"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("digests")
    return root, output_digests.build(root)


def test_processed_quarantine_staging_and_metrics_match_the_digests_from_before(built):
    _, actual = built
    expected = json.loads(EXPECTED.read_text())
    assert actual.keys() == expected.keys()
    changed = {k: (expected[k], actual[k]) for k in expected if actual[k] != expected[k]}
    assert not changed, f"outputs changed: {json.dumps(changed, indent=1)}"


def test_the_digest_sees_a_changed_transform(built, monkeypatch):
    """A transform that writes one column differently changes the digests of that entity."""
    import olist_transforms

    root, before = built
    original = olist_transforms.clean

    def stricter(entity, raw, timestamp_formats=None):
        from pyspark.sql import functions as F

        good, bad = original(entity, raw, timestamp_formats)
        if entity.name == "sellers":
            good = good.withColumn("seller_city", F.upper("seller_city"))
        return good, bad

    monkeypatch.setattr(olist_transforms, "clean", stricter)
    output_digests.run_jobs(root, ["sellers"])
    output_digests.load_staging(root, ["sellers"])
    after = output_digests.digests(root)
    assert after["processed/sellers"] != before["processed/sellers"]
    assert after["staging/sellers"] != before["staging/sellers"]
    assert after["processed/orders"] == before["processed/orders"]
