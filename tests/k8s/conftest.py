"""Fixtures of the chart tests: the real helm binary and the chart rendered with each values file."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gait.config import REPO_ROOT
from tests.k8s.helm_tool import helm_path

CHART = REPO_ROOT / "k8s"
EXAMPLES = CHART / "examples"
RELEASE = "gait"
NAMESPACE = "gait"

# name -> values files (the defaults first, always); every example values file is rendered
SCENARIOS: dict[str, tuple[Path, ...]] = {
    "defaults": (),
    **{path.stem.removeprefix("values-"): (path,) for path in sorted(EXAMPLES.glob("values-*.yaml"))},
}


@dataclass(frozen=True)
class Rendered:
    name: str
    text: str
    objects: tuple[dict, ...]

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name}: {len(found)} objects rendered"
        return found[0]

    def pod_specs(self) -> list[tuple[str, dict]]:
        """(kind/name, pod spec) of every workload, hook and test pod."""
        specs = []
        for o in self.objects:
            if o["kind"] in ("Deployment", "StatefulSet", "Job"):
                specs.append((f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]))
            elif o["kind"] == "Pod":
                specs.append((f"Pod/{o['metadata']['name']}", o["spec"]))
        return specs


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(helm_path()), *args], capture_output=True, text=True, timeout=120)


def render(values: tuple[Path, ...] = (), *sets: str) -> subprocess.CompletedProcess:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for path in values:
        args += ["-f", str(path)]
    for item in sets:
        args += ["--set", item]
    return helm(*args)


def load(text: str) -> tuple[dict, ...]:
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    out = {}
    for name, values in SCENARIOS.items():
        result = render(values)
        assert result.returncode == 0, f"helm template ({name}) failed:\n{result.stderr}"
        out[name] = Rendered(name, result.stdout, load(result.stdout))
    return out
