"""Security scan of the rendered chart with checkov (PyPI), every finding fixed or justified.

checkov's own dependencies clash with the project's (Prefect and others), so it lives in its own
virtual environment, `.venv-scan`, made by `make scan-venv` (which `make test` and `.ci/run` run
first). This test does not skip when that environment is missing: it fails and says how to make it.

The one place where findings are justified is `gait.checkovReasons` in k8s/templates/_helpers.tpl:
a workload that accepts a finding carries a `checkov.io/skipN: CKV_K8S_xx=<reason>` annotation
rendered from there (k8s/README.md "Security scan"). Here: no failed check in any scenario, every
skip is one of those reasons, and a chart with pinned images needs none of the image skips.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gait.config import REPO_ROOT
from tests.k8s.conftest import CHART, SCENARIOS, load, render

SCAN_VENV = Path(os.environ.get("GAIT_SCAN_VENV", REPO_ROOT / ".venv-scan"))
CHECKOV = SCAN_VENV / "bin" / "checkov"
# the findings the chart accepts (their reasons: gait.checkovReasons); anything else must be fixed
ACCEPTED = {"CKV_K8S_15", "CKV_K8S_35", "CKV_K8S_43", "CKV_K8S_8", "CKV_K8S_9"}
DIGEST = "sha256:" + "0" * 64
PINNED = tuple(f"services.{stage}.image.digest={DIGEST}" for stage in ("rotate", "pose2d", "lift3d", "analysis")) + (
    f"flows.image.digest={DIGEST}",)


def checkov() -> Path:
    if not CHECKOV.is_file():
        pytest.fail(f"{CHECKOV} is missing: run `make scan-venv` (checkov in its own venv; `make test` does it)")
    return CHECKOV


def scan(directory: Path) -> dict:
    """checkov's JSON report on every manifest under `directory` (offline: --skip-download)."""
    result = subprocess.run(
        [str(checkov()), "--directory", str(directory), "--framework", "kubernetes", "--output", "json",
         "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "LOG_LEVEL": "ERROR"})
    assert result.returncode in (0, 1), f"checkov failed to run:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["kubernetes"], [r.get("check_type") for r in reports]
    return reports[0]


def rendered_dir(tmp_path: Path, scenarios: dict[str, tuple]) -> tuple[Path, int]:
    """Render each (values files, --set items) scenario into its own file; (folder, objects)."""
    folder = tmp_path / "rendered"  # no dot in the path: checkov ignores hidden folders
    folder.mkdir()
    count = 0
    for name, (values, sets) in scenarios.items():
        result = render(values, *sets)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        (folder / f"{name}.yaml").write_text(result.stdout)
        count += len(load(result.stdout))
    return folder, count


def failures(report: dict) -> list[str]:
    return [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """One scan of every scenario (a file each) plus the chart with every gait image pinned."""
    scenarios = {name: (values, ()) for name, values in SCENARIOS.items()}
    scenarios["pinned"] = ((), PINNED)
    folder, objects = rendered_dir(tmp_path_factory.mktemp("scan"), scenarios)
    result = scan(folder)
    summary = result["summary"]
    # it read every manifest (checkov counts each container as a resource too)
    assert summary["parsing_errors"] == 0 and summary["resource_count"] >= objects, (summary, objects)
    return result


def in_file(checks: list[dict], scenario: str) -> list[dict]:
    return [c for c in checks if Path(c["file_path"]).name == f"{scenario}.yaml"]


def test_checkov_finds_nothing_unjustified(report):
    assert not failures(report), "checkov findings (fix them, or justify one in gait.checkovReasons):\n" + \
        "\n".join(failures(report))
    assert report["summary"]["passed"] > 1000, report["summary"]
    reasons = {}
    for skipped in report["results"]["skipped_checks"]:
        check, comment = skipped["check_id"], skipped["check_result"].get("suppress_comment", "")
        assert check in ACCEPTED, f"{skipped['resource']} skips {check}, which the chart does not accept"
        assert len(comment) > 40 and comment != "No comment provided", (skipped["resource"], check, comment)
        reasons.setdefault(check, set()).add(comment)
    assert all(len(texts) == 1 for texts in reasons.values()), "one reason per check, from one place"
    assert set(reasons) == ACCEPTED, f"accepted but never needed (remove them): {ACCEPTED - set(reasons)}"


def test_probe_skips_are_only_on_run_to_completion_pods(report):
    for skipped in report["results"]["skipped_checks"]:
        if skipped["check_id"] in ("CKV_K8S_8", "CKV_K8S_9"):
            assert skipped["resource"].startswith("Pod.gait.gait-test-"), skipped["resource"]


def test_pinned_images_need_no_image_skips(report):
    skipped = {s["check_id"] for s in in_file(report["results"]["skipped_checks"], "pinned")}
    assert skipped and not skipped & {"CKV_K8S_15", "CKV_K8S_43"}, skipped
    assert {"CKV_K8S_15", "CKV_K8S_43"} <= {s["check_id"] for s in in_file(report["results"]["skipped_checks"],
                                                                           "defaults")}


def test_the_scan_is_live(tmp_path):
    """An unjustified finding fails: the same chart without the chart's skip reasons is reported."""
    result = render((), *PINNED)
    assert result.returncode == 0, result.stderr
    objects = [o for o in load(result.stdout) if o["kind"] == "Pod"]
    for obj in objects:
        annotations = obj["metadata"].get("annotations", {})
        obj["metadata"]["annotations"] = {k: v for k, v in annotations.items() if not k.startswith("checkov.io/")}
    folder = tmp_path / "stripped"
    folder.mkdir()
    import yaml

    (folder / "pods.yaml").write_text(yaml.safe_dump_all(objects))
    found = {c["check_id"] for c in scan(folder)["results"]["failed_checks"]}
    assert {"CKV_K8S_8", "CKV_K8S_9"} <= found, found


def test_reasons_live_in_one_place():
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert 'define "gait.checkovReasons"' in helpers
    for path in (CHART / "templates").rglob("*.yaml"):
        assert "checkov.io/skip" not in path.read_text(), f"{path}: skip annotations come from gait.checkovSkips"
    assert not list(CHART.rglob(".checkov*")), "findings are justified in _helpers.tpl, not in a config file"
