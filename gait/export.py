"""Copy a run's artifacts out of the store into a folder laid out for people.

Layout (the original pipeline's output/ folders, one per stage):
  video/upright.mp4, video/video.json
  alphapose-results/alphapose-results.json, overlay.mp4, keypoints2d.npy/.xlsx, subject.json, ...
  results/X3D.npy, keypoints3d.xlsx, ...
  analysis/trajectories.xlsx, *.png, analysis.json
  manifests/<stage>.json   (what each file is: units, axes, fps, checksums, inputs)
"""
from __future__ import annotations

import json
from pathlib import Path

from gait.artifacts import Bundle
from gait.contracts import EXPORT_FOLDERS
from gait.store.base import ObjectStore


def export_outputs(store: ObjectStore, bundle_keys: dict[str, str], out_dir: Path) -> list[Path]:
    """Write every file of the given stage bundles under `out_dir`; returns the paths written."""
    out_dir = Path(out_dir)
    written: list[Path] = []
    for stage, key in bundle_keys.items():
        if stage not in EXPORT_FOLDERS:
            continue
        bundle = Bundle.open(store, key, expected_stage=stage)
        folder = out_dir / EXPORT_FOLDERS[stage]
        folder.mkdir(parents=True, exist_ok=True)
        for name in bundle.files:
            written.append(bundle.fetch(name, folder))
        manifest = out_dir / "manifests" / f"{stage}.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(bundle.manifest, indent=1))
        written.append(manifest)
    return written
