"""`gait analyze FILE --out DIR`: the gait analysis alone, in this process, on a motion-capture
file (TRC, C3D, CSV of named joints) or, in 2D mode, on 2D keypoints (`.npy` of Halpe-26 or
COCO-17 x, y, score per frame, as pose2d writes keypoints2d.npy)."""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gait.errors import InvalidInput
from gait.run import EXIT_OK, EXIT_USAGE, _fail


@dataclass(frozen=True)
class AnalyzeOptions:
    rate_hz: float | None = None
    units: str | None = None
    markers: str | None = None
    cutoff_hz: float | str | None = None  # a frequency, or "auto" (residual analysis)
    order: int | None = None
    events: str = "auto"
    height_m: float | None = None
    age_years: float | None = None
    sex: str | None = None


def _read(path: Path, options: AnalyzeOptions):
    from services.analysis.markers import parse_mapping
    from services.analysis.planar import scale_to_height, trajectories_2d
    from services.analysis.readers import read_trajectories

    if path.suffix.lower() == ".npy":
        if options.rate_hz is None:
            raise InvalidInput("2D keypoints (.npy) need --rate-hz (the video's frame rate)")
        if not path.is_file():
            raise InvalidInput(f"no such file: {path}")
        try:
            keypoints = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InvalidInput(f"{path.name} is not a NumPy array file ({exc})") from None
        return trajectories_2d(keypoints, options.rate_hz, "2D keypoints", options.height_m)
    mapping = parse_mapping(options.markers) if options.markers else None
    trajectories = read_trajectories(path, options.rate_hz, options.units, mapping)
    return scale_to_height(trajectories, options.height_m) if options.height_m is not None else trajectories


def analyze_file(path: Path, out: Path, options: AnalyzeOptions) -> int:
    from services.analysis.filtering import DEFAULT_CUTOFF_HZ, DEFAULT_ORDER, ButterworthLowPass, residual_cutoff
    from services.analysis.gait_analysis import analyse
    from services.analysis.outputs import ReportContext, write_outputs

    try:
        trajectories = _read(path, options)
        order = options.order if options.order is not None else DEFAULT_ORDER
        cutoff = options.cutoff_hz if options.cutoff_hz is not None else DEFAULT_CUTOFF_HZ
        if cutoff == "auto":
            signals = [p[:, axis] for name, p in trajectories.positions.items()
                       if name.endswith(("_heel", "_toe", "_ankle", "_knee")) for axis in range(3)]
            cutoff = residual_cutoff(signals, trajectories.sampling_rate_hz, order)
            trajectories.notes["cutoff"] = f"{cutoff:g} Hz chosen by residual analysis (Winter 2009)"
        lowpass = ButterworthLowPass(float(cutoff), order)
        result = analyse(trajectories, lowpass, options.events)
        out.mkdir(parents=True, exist_ok=True)
        mode = "2D" if trajectories.planar else "3D"
        lengths = trajectories.notes.get("lengths", "metres")
        context = ReportContext(
            source=trajectories.source, record=hashlib.sha256(path.read_bytes()).hexdigest()[:16],
            axes=f"as in the file, up = {trajectories.up.tolist()}; lengths in {lengths}",
            provenance=[f"Input: {trajectories.source}; " + "; ".join(f"{k}: {v}" for k, v in trajectories.notes.items())],
            age_years=options.age_years, sex=options.sex, mode=mode)
        _, summary = write_outputs(out, result, trajectories, lowpass, context)
    except (InvalidInput, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    cadence = result.parameters.get("cadence_steps_per_min")
    line = f"cadence {cadence['mean']:.1f} steps/min from {cadence['n']} steps" if cadence else "no complete steps found"
    print(f"{len(result.events)} events ({mode}), {line}; outputs in {out}", file=sys.stderr)
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK
