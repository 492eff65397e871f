"""Every event method on every recording of the corpus, scored against the reference events."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gait.analysis.analyze import DETECTORS, EVENT_METHODS, GaitAnalysis, analyze, choose_event_detector
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.corpus import (
    MARKER_RECORDINGS,
    REFERENCE_COLUMNS,
    Recording,
    annotation_events,
    demo_annotation,
)
from gait.analysis.validation.scoring import TOLERANCE_S, EventScore, cadence_steps_per_min, score_events
from gait.analysis.validation.synthetic import SyntheticTrial, SyntheticWalker
from gait.contracts import CONFIDENCE_3D, FEET_3D, KEYPOINTS_3D
from gait.errors import InvalidInput


@dataclass(frozen=True)
class Case:
    """What is scored: trajectories, their reference events and the span the reference covers."""

    recording: Recording
    trajectories: Trajectories
    reference: pd.DataFrame
    kind: str  # "markers", "video" or "synthetic"


def _in_bouts(reference: pd.DataFrame, result: GaitAnalysis) -> float:
    """Share (%) of the reference events that fall inside the analyzed bouts."""
    if result.bouts.empty:
        return 100.0
    inside = np.zeros(len(reference), dtype=bool)
    for bout in result.bouts.itertuples():
        inside |= reference.time_s.between(bout.start_s, bout.stop_s).to_numpy()
    return 100.0 * float(inside.mean()) if len(reference) else float("nan")


def score_result(case: Case, method: str, result: GaitAnalysis, chosen: str) -> dict:
    span = case.recording.span_s(case.reference)
    strikes, offs = (score_events(result.events, case.reference, kind, span) for kind in ("heel_strike", "toe_off"))
    found_cadence = result.parameters.get("cadence_steps_per_min", {}).get("mean", float("nan"))  # as reported
    reference_cadence = cadence_steps_per_min(case.reference, span)
    return {
        "recording": case.recording.name, "kind": case.kind, "method": method,
        **_figures("hs", strikes), **_figures("to", offs),
        "cadence_error_steps_per_min": found_cadence - reference_cadence,
        "step_time_error_ms": 1000 * (60 / found_cadence - 60 / reference_cadence),
        "reference_in_bouts_pct": _in_bouts(case.reference, result),
        "chosen_by_auto": chosen,
    }


def _figures(prefix: str, score: EventScore) -> dict:
    return {f"{prefix}_mae_ms": score.mae_ms, f"{prefix}_bias_ms": score.bias_ms, f"{prefix}_matched": score.matched,
            f"{prefix}_missed": score.missed, f"{prefix}_extra": score.extra}


def score_case(case: Case, methods: tuple[str, ...] = EVENT_METHODS) -> list[dict]:
    """One row per method that can run on the case (a method that refuses the data is skipped)."""
    detector, _ = choose_event_detector(case.trajectories, "auto")
    chosen = next(name for name, kind in DETECTORS.items() if isinstance(detector, kind))
    results: dict[str, GaitAnalysis] = {}
    rows = []
    for method in methods:
        key = chosen if method == "auto" else method  # auto runs the chosen method: analyzed once for both rows
        if key not in results:
            try:
                results[key] = analyze(case.trajectories, ButterworthLowPass(), key)
            except InvalidInput:
                continue
        rows.append(score_result(case, method, results[key], chosen if method == "auto" else ""))
    return rows


SYNTHETIC_DURATION_S = 20.0


def synthetic_cases() -> list[Case]:
    """The synthetic walker as markers (100 Hz, 1 mm noise) and as video keypoints (30 Hz,
    pelvis-relative, 5 mm noise): our own model, labelled synthetic."""
    cases = []
    walker = SyntheticWalker(cadence_steps_per_min=108.0)
    for name, rate, noise, relative in (("synthetic-markers", 100.0, 0.001, False),
                                        ("synthetic-keypoints", 30.0, 0.005, True)):
        trial = walker.generate(SYNTHETIC_DURATION_S, rate)
        rng = np.random.default_rng(0)
        origin = trial.positions["pelvis"] if relative else 0.0
        noisy = {joint: p - origin + rng.normal(0, noise, p.shape) for joint, p in trial.positions.items()}
        trajectories = Trajectories(noisy, rate, np.array([0.0, 0.0, 1.0]), "synthetic", root_relative=relative)
        recording = Recording(name, f"our synthetic walker, {rate:g} Hz, {noise * 1000:g} mm noise", "the model's own events",
                              span_s=lambda reference: SYNTHETIC_SPAN_S)
        cases.append(Case(recording, trajectories, synthetic_reference(trial), "synthetic"))
    return cases


SYNTHETIC_SPAN_S = (0.5, SYNTHETIC_DURATION_S - 0.5)  # an event at the very edge cannot be seen


def synthetic_reference(trial: SyntheticTrial) -> pd.DataFrame:
    """The synthetic walker's own events as a reference table (side, event, time_s)."""
    rows = [(side, event, t) for event, table in (("heel_strike", trial.heel_strikes_s), ("toe_off", trial.toe_offs_s))
            for side, times in table.items() for t in times]
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS).sort_values("time_s", ignore_index=True)


def marker_cases() -> list[Case]:
    return [Case(recording, *recording.load(), "markers") for recording in MARKER_RECORDINGS]


def demo_case(results_dir: Path) -> Case:
    """The demo clip's 3D keypoints as the pipeline wrote them (`gait run`'s results/ folder)
    against our frame-by-frame annotation."""
    arrays = []
    for name in (KEYPOINTS_3D, FEET_3D, CONFIDENCE_3D):
        path = results_dir / name
        if not path.is_file():
            raise InvalidInput(f"{path} is missing: run `gait run` on the demo clip first")
        arrays.append(np.load(path))
    return demo_case_from(*arrays)


def demo_case_from(h36m: np.ndarray, feet3d: np.ndarray, confidence3d: np.ndarray) -> Case:
    """The demo clip's case from the lift3d stage's arrays (X3D, feet3d, confidence3d)."""
    from gait.analysis.keypoints import keypoint_trajectories

    annotation = demo_annotation()
    trajectories = keypoint_trajectories(h36m, feet3d, float(annotation["clip"]["fps"]), confidence3d)
    reference = annotation_events(annotation)
    recording = Recording("demo-clip", "the demo clip (Sports2D demo.mp4, 30 fps, side view), the pipeline's 3D keypoints",
                          "our frame-by-frame annotation (gait/analysis/validation/demo_annotation.json)")
    return Case(recording, trajectories, reference, "video")


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (also readable on a terminal)."""
    header = ("| recording | kind | method | HS MAE ms | HS bias ms | HS matched/missed/extra | TO MAE ms | TO bias ms "
              "| TO matched/missed/extra | cadence error /min | step time error ms | reference in bouts |")
    lines = [header, "|" + " --- |" * 12]
    for row in rows:
        method = f"auto = {row['chosen_by_auto']}" if row["method"] == "auto" else row["method"]
        lines.append(
            f"| {row['recording']} | {row['kind']} | {method} | {row['hs_mae_ms']:.1f} | {row['hs_bias_ms']:+.1f} "
            f"| {row['hs_matched']}/{row['hs_missed']}/{row['hs_extra']} | {row['to_mae_ms']:.1f} | {row['to_bias_ms']:+.1f} "
            f"| {row['to_matched']}/{row['to_missed']}/{row['to_extra']} | {row['cadence_error_steps_per_min']:+.1f} "
            f"| {row['step_time_error_ms']:+.0f} | {row['reference_in_bouts_pct']:.0f} % |")
    return "\n".join(lines)


TOLERANCE_NOTE = (f"Events are matched one to one within {1000 * TOLERANCE_S:.0f} ms (closest pairs first); errors are "
                  "detected minus reference; missed and extra count only inside the span of the reference events.")
