"""Copy a run's artifacts out of the store into a folder laid out for people.

Layout (the original pipeline's output/ folders, one per stage):
  video/upright.mp4, video/video.json
  alphapose-results/alphapose-results.json, overlay.mp4, keypoints2d.npy/.xlsx, subject.json, ...
  results/X3D.npy, keypoints3d.xlsx, ...
  analysis/trajectories.xlsx, *.png, analysis.json
  manifests/<stage>.json   (what each file is: units, axes, fps, checksums, inputs)

De-identification (docs/deidentification.md): video/upright.mp4 is pose2d's de-identified upright
video (`upright_deidentified.mp4` in manifests/pose2d.json), every head blurred; rotate's unblurred
upright.mp4 leaves the store only from a run whose pose2d bundle was made with de-identification
off (research use), and rotate's detection proxy never does.
"""
from __future__ import annotations

import json
from pathlib import Path

from gait.artifacts import Bundle
from gait.contracts import EXPORT_AS, EXPORT_FOLDERS, POSE2D, ROTATE, STORE_ONLY, UPRIGHT_VIDEO
from gait.store.base import ObjectStore


def export_outputs(store: ObjectStore, bundle_keys: dict[str, str], out_dir: Path) -> list[Path]:
    """Write every file of the given stage bundles under `out_dir`; returns the paths written."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    bundles = {stage: Bundle.open(store, key, expected_stage=stage)
               for stage, key in bundle_keys.items() if stage in EXPORT_FOLDERS}
    kept = STORE_ONLY | (set() if identifiable_video_wanted(bundles) else {(ROTATE, UPRIGHT_VIDEO)})
    for stage, bundle in bundles.items():
        for name in bundle.files:
            if (stage, name) in kept:
                continue
            to_stage, to_name = EXPORT_AS.get((stage, name), (stage, name))
            folder = out_dir / EXPORT_FOLDERS[to_stage]
            folder.mkdir(parents=True, exist_ok=True)
            path = bundle.fetch(name, folder)
            written.append(path.replace(folder / to_name) if to_name != name else path)
        manifest = out_dir / "manifests" / f"{stage}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(bundle.manifest, indent=1))
        written.append(manifest)
    return written


def identifiable_video_wanted(bundles: dict[str, Bundle]) -> bool:
    """Did this run ask for the video as filmed? Only a pose2d bundle made with de-identification
    off says so; without a pose2d bundle (a run that stopped after rotate) the answer is no."""
    pose2d = bundles.get(POSE2D)
    return pose2d is not None and pose2d.manifest.get("config", {}).get("deidentify") is False
