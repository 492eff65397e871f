"""Build the gait images from docker/Dockerfile: `make images` (offline) or `make images-registry`.

    python docker/build.py --offline [image ...]   # no registry: the base from Debian's packages
    python docker/build.py [image ...]             # the pinned bases from Docker Hub
    python docker/build.py --list                  # what would be built, one image a line

--offline (what `make images` runs) needs no image registry: the base is made from Debian
bookworm's packages when it is missing (docker/base.sh: debootstrap + docker import; needs root
and the Debian mirror), the Python packages come from build/wheelhouse (docker/wheelhouse.py
downloads them first, from PyPI, when the folder holds none), pinned by
docker/constraints-offline.txt. pose2d and lift3d are then built with their default backends only
(no `official` extra: no PyTorch, no CUDA base). Without --offline, the CPU images use the pinned
python slim base (docker/Dockerfile's BASE default) and the GPU images the pinned CUDA base with
`official`. Docker's layer cache makes a second build fast. Images are tagged gait-<image>:<tag>.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
WHEELHOUSE = ROOT / "build" / "wheelhouse"
OFFLINE_BASE = "gait-base:bookworm"
OFFLINE_BASE_NAME = "gait-base:bookworm (debootstrap --variant=minbase bookworm, docker/base.sh)"
# NVIDIA's CUDA base for the GPU stages, pinned by tag and by digest: the multi-platform index
# Docker Hub serves for nvidia/cuda:13.0.3-base-ubuntu24.04 (not pulled here). torch from PyPI
# brings its own CUDA 13.0 libraries, so the slim "base" image is enough; nodes need an NVIDIA
# driver that supports CUDA 13.0 (R580 or newer). Update tag and digest together.
GPU_BASE = ("nvidia/cuda:13.0.3-base-ubuntu24.04"
            "@sha256:7c7413a56200486f71f181cad9310f6fd31b6bb21816ade15fc9c1e1e927a5c1")

# image -> (runs on a GPU, description label)
IMAGES = {
    "rotate": (False, "gait rotate stage: upright, constant-frame-rate H.264 video (gRPC on 50051)"),
    "pose2d": (True, "gait pose2d stage: 2D keypoints of the walker, AlphaPose format (gRPC on 50052)"),
    "lift3d": (True, "gait lift3d stage: 3D keypoints, Human3.6M layout (gRPC on 50053)"),
    "analysis": (False, "gait analysis stage: gait events, parameters, kinematics, plots, "
                        "HTML/PDF report, Excel (gRPC on 50054)"),
    "flows": (False, "gait Prefect server, worker and flows (gait/full, gait/batch)"),
}


def default_base() -> str:
    """The BASE build argument's default in docker/Dockerfile (the pinned python slim image)."""
    return re.search(r"^ARG BASE=(\S+)$", DOCKERFILE.read_text(), re.M).group(1)


def version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def revision() -> str:
    """The commit the images are built from, as gait's audit trail names it (GAIT_BUILD_COMMIT):
    "+modified" when tracked files differ from it; empty outside a git checkout."""
    from gait.provenance import code_version

    commit = code_version()["commit"]
    return "" if commit == "unknown" else commit


def build_args(image: str, offline: bool) -> dict[str, str]:
    """The build arguments of one image (docker/Dockerfile's header says what each one does)."""
    gpu, description = IMAGES[image]
    args = {"IMAGE": image, "DESCRIPTION": description, "VERSION": version(), "REVISION": revision()}
    if offline:
        args |= {"BASE": OFFLINE_BASE, "BASE_NAME": OFFLINE_BASE_NAME, "OFFLINE": "1",
                 "CONSTRAINTS": "docker/constraints-offline.txt", "EXTRAS": image}
    elif gpu:
        args |= {"BASE": GPU_BASE, "BASE_NAME": "docker.io/" + GPU_BASE.split("@")[0], "EXTRAS": f"{image},official"}
    return args


def command(image: str, offline: bool, tag: str) -> list[str]:
    out = ["docker", "build", "--network", "host", "-f", str(DOCKERFILE.relative_to(ROOT)), "--target", image,
           "-t", f"gait-{image}:{tag}"]
    for name, value in build_args(image, offline).items():
        out += ["--build-arg", f"{name}={value}"]
    return out + ["."]


def have_image(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def prepare_offline() -> None:
    if not have_image(OFFLINE_BASE):
        base = [str(ROOT / "docker" / "base.sh"), OFFLINE_BASE]
        if os.geteuid() != 0:
            base = ["sudo", *base]
        print(f"$ {' '.join(base)}", file=sys.stderr)
        subprocess.run(base, check=True)
    if not any(WHEELHOUSE.glob("*.whl")):
        subprocess.run([sys.executable, str(ROOT / "docker" / "wheelhouse.py"), "--dest", str(WHEELHOUSE)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", choices=[[], *IMAGES], default=[], metavar="image",
                        help=f"any of {', '.join(IMAGES)} (default: all)")
    parser.add_argument("--offline", action="store_true", help="no registry: Debian base, wheelhouse")
    parser.add_argument("--tag", default=version(), help="image tag (default: the package version)")
    parser.add_argument("--list", action="store_true", help="print the images' names and stop")
    args = parser.parse_args(argv)
    images = args.images or list(IMAGES)
    if args.list:
        print("\n".join(f"gait-{image}:{args.tag}" for image in images))
        return 0
    if shutil.which("docker") is None:
        parser.error("docker is not installed")
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)  # the Dockerfile COPYs it; empty without --offline
    if args.offline:
        prepare_offline()
    for image in images:
        started = time.monotonic()
        print(f"$ {' '.join(command(image, args.offline, args.tag))}", file=sys.stderr)
        subprocess.run(command(image, args.offline, args.tag), check=True, cwd=ROOT)
        print(f"gait-{image}:{args.tag}: built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
