"""The short summary `gait run` prints when it is done, from the bundles' manifests."""
from __future__ import annotations

from gait.artifacts import Bundle
from gait.contracts import LIFT3D, POSE2D, ROTATE, STAGES
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
            text = (f"Butterworth {meta['cutoff_hz']:g} Hz order {meta['filter_order']}: high-frequency power "
                    f"of the 2D foot trajectories down to {meta['high_frequency_power_ratio_2d']:.1%}")
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
