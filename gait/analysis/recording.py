"""The analysis of a lab's recording (TRC, C3D, CSV of named joints) or of 2D keypoints (`.npy`, or
an AlphaPose results `.json`),
with its options: the same whether `gait analyze` runs it in-process or the analysis service
runs it on a `recording` bundle."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

import gait
from gait.alphapose_json import read_alphapose_json
from gait.analysis.analyze import GaitAnalysis, analyze
from gait.analysis.filtering import DEFAULT_CUTOFF_HZ, DEFAULT_ORDER, ButterworthLowPass, residual_cutoff
from gait.analysis.markers import parse_mapping
from gait.analysis.outputs import OutputFile, ReportContext, write_outputs
from gait.analysis.planar import scale_to_height, trajectories_2d
from gait.analysis.readers import read_trajectories
from gait.analysis.trajectories import Trajectories
from gait.artifacts import sha256_file
from gait.contracts import ANALYSIS
from gait.errors import InvalidInput
from gait.ingest import RECORDING_SUFFIXES
from gait.provenance import new_record

KEYPOINT_SUFFIXES = (".npy", ".json")
AXES = {"x": 0, "y": 1, "z": 2}


def parse_axis(text: str) -> np.ndarray:
    """'x', '-y', '+z' -> unit vector."""
    name = text.strip().lower()
    sign = -1.0 if name.startswith("-") else 1.0
    axis = AXES.get(name.lstrip("+-"))
    if axis is None:
        raise InvalidInput(f"axis {text!r} must be x, y or z, with an optional sign (e.g. -y)")
    vector = np.zeros(3)
    vector[axis] = sign
    return vector


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
    up_axis: str | None = None       # e.g. "z" or "-y": instead of the detected vertical
    forward_axis: str | None = None  # the line of progression instead of the detected one (sign per bout)

    def config(self) -> dict:
        """The options as they enter a bundle key."""
        return {name: value for name, value in asdict(self).items() if value is not None}


def read_recording(path: Path, options: AnalyzeOptions) -> Trajectories:
    if path.suffix.lower() not in RECORDING_SUFFIXES:
        raise InvalidInput(f"unknown recording type {path.suffix or '(none)'!r}; expected {', '.join(RECORDING_SUFFIXES)}")
    if path.suffix.lower() in KEYPOINT_SUFFIXES:
        if options.rate_hz is None:
            raise InvalidInput(f"2D keypoints ({path.suffix.lower()}) need --rate-hz (the video's frame rate)")
        return read_keypoints_2d(path, options)
    mapping = parse_mapping(options.markers) if options.markers else None
    trajectories = read_trajectories(path, options.rate_hz, options.units, mapping)
    if options.up_axis:
        trajectories = replace(trajectories, up=parse_axis(options.up_axis),
                               notes={**trajectories.notes, "up axis": f"{options.up_axis} (given)"})
    return scale_to_height(trajectories, options.height_m) if options.height_m is not None else trajectories


def read_keypoints_2d(path: Path, options: AnalyzeOptions) -> Trajectories:
    """2D mode: a (frames, 26 or 17, 3) `.npy`, or the walker of an AlphaPose results `.json`."""
    if path.suffix.lower() == ".json":
        subject = read_alphapose_json(path)
        trajectories = trajectories_2d(subject.keypoints, options.rate_hz, "AlphaPose results (2D)", options.height_m)
        trajectories.notes["person"] = subject.reason
        return trajectories
    if not path.is_file():
        raise InvalidInput("the file does not exist")
    try:
        keypoints = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise InvalidInput(f"not a NumPy array file ({exc})") from None
    return trajectories_2d(keypoints, options.rate_hz, "2D keypoints", options.height_m)


def lowpass_for(trajectories: Trajectories, options: AnalyzeOptions) -> ButterworthLowPass:
    order = options.order if options.order is not None else DEFAULT_ORDER
    cutoff = options.cutoff_hz if options.cutoff_hz is not None else DEFAULT_CUTOFF_HZ
    if cutoff == "auto":
        signals = [p[:, axis] for name, p in trajectories.positions.items()
                   if name.endswith(("_heel", "_toe", "_ankle", "_knee")) for axis in range(3)]
        cutoff = residual_cutoff(signals, trajectories.sampling_rate_hz, order)
        trajectories.notes["cutoff"] = f"{cutoff:g} Hz chosen by residual analysis (Winter 2009)"
    return ButterworthLowPass(float(cutoff), order)


def analyze_recording(path: Path, options: AnalyzeOptions, record: str, out: Path,
                      audit: list[dict] | None = None) -> tuple[GaitAnalysis, list[OutputFile], dict]:
    """Read, analyze and write every output into `out`; `record` is the content hash the
    report shows (never the file's name); `audit`: the steps that made the input (gait.provenance
    records; empty: the file and this analysis). Raises InvalidInput (or ValueError) for bad input."""
    trajectories = read_recording(path, options)
    lowpass = lowpass_for(trajectories, options)
    forward = parse_axis(options.forward_axis) if options.forward_axis else None
    if forward is not None and abs(float(forward @ trajectories.up)) > 0.5:
        raise InvalidInput("the walking direction cannot be the vertical axis")
    result = analyze(trajectories, lowpass, options.events, forward_axis=forward)
    lengths = trajectories.notes.get("lengths", "metres")
    context = ReportContext(
        source=trajectories.source, record=record,
        axes=f"as in the file, up = {trajectories.up.tolist()}; lengths in {lengths}",
        provenance=[f"Input: {trajectories.source}; " + "; ".join(f"{k}: {v}" for k, v in trajectories.notes.items())],
        age_years=options.age_years, sex=options.sex, mode="2D" if trajectories.planar else "3D",
        near_side=trajectories.near_side,
        audit=audit or [new_record(ANALYSIS, {"name": "gait.analysis", "version": gait.__version__}, options.config(),
                                   {f"source{path.suffix.lower()}": sha256_file(path)})])
    files, summary = write_outputs(out, result, trajectories, lowpass, context)
    return result, files, summary
