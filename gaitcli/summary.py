"""The short summary `gait run` prints when it is done, from the bundles' manifests."""
from __future__ import annotations

import math

from gait.artifacts import Bundle
from gait.contracts import ANALYSIS, LIFT3D, POSE2D, ROTATE, STAGES
from gait.store.base import ObjectStore


def summarize(store: ObjectStore, bundle_keys: dict[str, str]) -> list[str]:
    """One line per stage with the figures a user checks first."""
    lines = []
    for stage in STAGES:
        if stage not in bundle_keys:
            continue
        meta = Bundle.open(store, bundle_keys[stage], expected_stage=stage).meta
        if stage == ROTATE:
            text = (f"{meta['frames']} frames, {meta['fps']:g} fps, {meta['width']}x{meta['height']}, "
                    f"rotated {meta['rotation_applied_deg']} deg")
        elif stage == POSE2D:
            text = f"subject found in {meta['detection_rate']:.0%} of frames; {meta['subject']['reason']}"
        elif stage == LIFT3D:
            text = f"3D pose in {meta['valid_fraction']:.0%} of frames ({meta['backend']}, {meta['units']})"
        else:
            ratio = meta["high_frequency_power_ratio_2d"]
            text = f"Butterworth {meta['cutoff_hz']:g} Hz order {meta['filter_order']}: " + (
                f"high-frequency power of the 2D foot trajectories down to {ratio:.1%}" if math.isfinite(ratio)
                else "too few frames to measure what the filter removed")
            parameters = meta.get("spatiotemporal_parameters", {})
            if "cadence_steps_per_min" in parameters:
                text += (f"; cadence {parameters['cadence_steps_per_min']['mean']:.0f} steps/min from "
                         f"{parameters['cadence_steps_per_min']['n']} steps")
            if "step_length_m" in parameters:
                text += f", step length {parameters['step_length_m']['mean']:.2f} m"
            if "speed_m_s" in parameters:
                text += f", speed {parameters['speed_m_s']['mean']:.2f} m/s"
        lines.append(f"{stage:>9}  {text}")
    return lines


def analysis_warnings(store: ObjectStore, bundle_keys: dict[str, str]) -> list[str]:
    """What the analysis could not measure or stand behind (no walking bout, too few steps, the
    camera's view), as `gait analyze` prints them too: one `warning:` line each."""
    if ANALYSIS not in bundle_keys:
        return []
    meta = Bundle.open(store, bundle_keys[ANALYSIS], expected_stage=ANALYSIS).meta
    return [f"warning: {warning}" for warning in meta.get("warnings", [])]
