"""The four stage calls of one video's chain, without Prefect: each call's request and the figures
its progress line shows. The flow's tasks (flows.gait_flow) make these calls, and so does `gait
run`'s look in the store (gaitcli.from_store) with `cached_only`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gait.contracts import ANALYSIS, LIFT3D, POSE2D, ROTATE
from gait.v1 import stages_pb2


@dataclass(frozen=True)
class StageCall:
    """One service call: `method` of `stage`'s service with `request`; `summarise` picks the
    response's figures for the progress line."""

    stage: str
    method: str
    request: Any
    summarise: Callable[[Any], dict[str, Any]]


def rotate_call(video_key: str, rotation_deg: int | None = None, cached_only: bool = False) -> StageCall:
    request = stages_pb2.RotateRequest(video_key=video_key, cached_only=cached_only)
    if rotation_deg is not None:
        request.rotation_deg = rotation_deg
    return StageCall(ROTATE, "Rotate", request, lambda r: {
        "rotated_deg": r.rotation_applied_deg, "frames": r.frames, "fps": round(r.fps, 2)})


def pose2d_call(video_bundle_key: str, deidentify: bool = True, cached_only: bool = False) -> StageCall:
    request = stages_pb2.Pose2DRequest(video_bundle_key=video_bundle_key, skip_deidentify=not deidentify,
                                       cached_only=cached_only)
    return StageCall(POSE2D, "EstimatePose", request, lambda r: {
        "frames": r.frames, "detected": round(r.detection_rate, 3)})


def lift3d_call(pose2d_bundle_key: str, cached_only: bool = False) -> StageCall:
    request = stages_pb2.Lift3DRequest(pose2d_bundle_key=pose2d_bundle_key, cached_only=cached_only)
    return StageCall(LIFT3D, "Lift", request, lambda r: {"frames": r.frames, "valid": round(r.valid_fraction, 3)})


def analysis_call(lift3d_bundle_key: str, cutoff_hz: float | None = None, filter_order: int | None = None,
                  cached_only: bool = False) -> StageCall:
    request = stages_pb2.AnalysisRequest(lift3d_bundle_key=lift3d_bundle_key, cached_only=cached_only)
    if cutoff_hz is not None:
        request.cutoff_hz = cutoff_hz
    if filter_order is not None:
        request.filter_order = filter_order
    return StageCall(ANALYSIS, "Analyze", request, lambda r: {
        "cutoff_hz": round(r.cutoff_hz, 3), "order": r.filter_order})
