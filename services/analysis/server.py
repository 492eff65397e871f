"""AnalysisService: filtered foot trajectories (2D and 3D), their plots and an Excel workbook."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

from gait.analysis.analyze import analyze
from gait.analysis.crosscheck import is_side_view
from gait.analysis.filtering import DEFAULT_CUTOFF_HZ, DEFAULT_ORDER, ButterworthLowPass
from gait.analysis.keypoints import (
    MIN_KEYPOINT_SCORE,
    camera_view_warnings,
    foot_trajectories_2d,
    foot_trajectories_3d,
    high_frequency_power_ratio,
    image_plane_angles,
    keypoint_trajectories,
    orientation_warning,
)
from gait.analysis.outputs import XLSX, ReportContext, write_outputs
from gait.analysis.planar import near_side, trajectories_2d
from gait.analysis.plots import plot_trajectories
from gait.analysis.recording import AnalyzeOptions, analyze_recording
from gait.analysis.report import ReportFigure
from gait.analysis.trajectories import Trajectories
from gait.artifacts import Bundle, BundleWriter, cached_stage
from gait.assets import REFERENCE
from gait.config import ServiceConfig
from gait.contracts import (
    ANALYSIS,
    CONFIDENCE_3D,
    FEET_3D,
    KEYPOINTS_2D,
    KEYPOINTS_3D,
    LIFT3D,
    POSE2D,
    RECORDING,
    STAGE_VERSIONS,
)
from gait.errors import InvalidInput
from gait.joints import FOOT_JOINTS_2D, FOOT_JOINTS_3D
from gait.provenance import audit_records, new_record
from gait.rpc import build_server, outcome, stage_method
from gait.store import ObjectStore, open_store
from gait.tables import keypoint_table, write_workbook
from gait.v1 import stages_pb2, stages_pb2_grpc

BACKEND = "butterworth-zero-phase"
# The analysis's data in the audit trail: the normal-walking references it scores against (pinned
# SHA-256, checked when `gait setup` fetched them).
BACKEND_RECORD = {"name": BACKEND, "version": STAGE_VERSIONS[ANALYSIS],
                  "models": [{"name": asset.target, "sha256": asset.sha256} for asset in REFERENCE]}


class AnalysisServicer(stages_pb2_grpc.AnalysisServiceServicer):
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @stage_method(ANALYSIS)
    def Analyze(self, request: stages_pb2.AnalysisRequest, context: grpc.ServicerContext) -> stages_pb2.AnalysisResponse:
        started = time.perf_counter()
        lift3d = Bundle.open(self.store, request.lift3d_bundle_key, expected_stage=LIFT3D)
        pose2d = Bundle.open(self.store, lift3d.manifest["inputs"][POSE2D]["key"], expected_stage=POSE2D)
        if request.pose2d_bundle_key and request.pose2d_bundle_key.strip().rstrip("/") != pose2d.key:
            raise InvalidInput(f"the lift3d bundle {lift3d.key!r} was not made from the pose2d bundle "
                               f"{request.pose2d_bundle_key!r}")
        lowpass = ButterworthLowPass(
            cutoff_hz=request.cutoff_hz if request.HasField("cutoff_hz") else DEFAULT_CUTOFF_HZ,
            order=request.filter_order if request.HasField("filter_order") else DEFAULT_ORDER,
        )
        fps = float(lift3d.meta["fps"])
        lowpass.check(fps)
        config = {"cutoff_hz": lowpass.cutoff_hz, "filter_order": lowpass.order, "max_gap_s": lowpass.max_gap_s,
                  "min_keypoint_score": MIN_KEYPOINT_SCORE}
        bundle, cached = cached_stage(self.store, ANALYSIS, STAGE_VERSIONS[ANALYSIS],
                                      {POSE2D: pose2d.digest, LIFT3D: lift3d.digest}, config,
                                      lambda key: self._compute(pose2d, lift3d, lowpass, fps, key, config),
                                      cached_only=request.cached_only)
        return stages_pb2.AnalysisResponse(
            outcome=outcome(bundle.key, cached, started, BACKEND), cutoff_hz=lowpass.cutoff_hz,
            filter_order=lowpass.order, trajectories=bundle.meta["trajectories"],
        )

    def _compute(self, pose2d: Bundle, lift3d: Bundle, lowpass: ButterworthLowPass, fps: float, key: str, config: dict) -> Bundle:
        keypoints2d = pose2d.read_npy(KEYPOINTS_2D)  # read once: feet, orientation and side-view angles
        raw2d = foot_trajectories_2d(keypoints2d)
        h36m, feet3d = lift3d.read_npy(KEYPOINTS_3D), lift3d.read_npy(FEET_3D)
        raw3d = foot_trajectories_3d(h36m, feet3d)
        filtered2d = lowpass.filter(raw2d, fps)
        trajectories = keypoint_trajectories(h36m, feet3d, fps, lift3d.read_npy(CONFIDENCE_3D))
        gait = analyze(trajectories, lowpass, image_plane=_image_plane(keypoints2d, fps))
        missing = np.full((len(h36m), 3), np.nan)
        filtered3d = np.stack([gait.filtered.get(name, missing) for name in FOOT_JOINTS_3D], axis=1)
        gait.warnings.extend(camera_view_warnings(gait.forward))
        sideways = orientation_warning(keypoints2d)
        if sideways:
            gait.warnings.insert(0, sideways)
            gait.implausible["orientation"] = sideways
        evidence, near = None, None
        if is_side_view(gait.forward) and len(gait.bouts):
            gait, evidence = image_plane_angles(gait, keypoints2d, lowpass, fps)
            near = near_side(keypoints2d)
        time_s = np.arange(len(raw2d)) / fps
        videos = video_outputs(pose2d)
        axes_3d = lift3d.file_meta(KEYPOINTS_3D).get("axes", {})
        axes_2d = {"x": "right in the image (px)", "y": "down in the image (px)"}
        with BundleWriter(self.store, key, ANALYSIS, BACKEND_RECORD,
                          {POSE2D: pose2d, LIFT3D: lift3d}, config) as writer:
            dims2d = {"joints": list(FOOT_JOINTS_2D), "channels": ["x", "y"], "units": "px", "fps": fps}
            dims3d = {"joints": list(FOOT_JOINTS_3D), "channels": ["x", "y", "z"], "units": "m", "fps": fps, "axes": axes_3d}
            writer.add_npy("feet2d_filtered.npy", filtered2d.astype(np.float32), "filtered 2D foot trajectories", dims2d)
            writer.add_npy("feet3d_filtered.npy", filtered3d.astype(np.float32), "filtered 3D foot trajectories", dims3d)
            plot_trajectories(writer.path("ankle_trajectories_2d.png"), time_s, raw2d, filtered2d, FOOT_JOINTS_2D,
                              ("x", "y"), "px", f"Foot keypoints in the image, Butterworth {lowpass.cutoff_hz:g} Hz")
            writer.add("ankle_trajectories_2d.png", "image/png", "raw vs filtered 2D foot trajectories", dims2d)
            writer.add("ankle_trajectories_2d.svg", "image/svg+xml", "the same plot as SVG", dims2d)
            write_workbook(writer.path("trajectories.xlsx"), {
                "raw_2d_px": keypoint_table(raw2d, FOOT_JOINTS_2D, ("x", "y"), fps),
                "filtered_2d_px": keypoint_table(filtered2d, FOOT_JOINTS_2D, ("x", "y"), fps),
                "raw_3d_m": keypoint_table(raw3d, FOOT_JOINTS_3D, ("x", "y", "z"), fps),
                "filtered_3d_m": keypoint_table(filtered3d, FOOT_JOINTS_3D, ("x", "y", "z"), fps),
            }, {"filter": f"Butterworth low-pass, order {lowpass.order}, cutoff {lowpass.cutoff_hz:g} Hz, zero-phase "
                          "(forwards and backwards)", "fps": fps,
                "gaps": f"dropouts up to {lowpass.max_gap_s:g} s bridged by linear interpolation, longer ones left empty",
                **{f"2D axis {k}": v for k, v in axes_2d.items()}, **{f"3D axis {k}": v for k, v in axes_3d.items()}})
            writer.add("trajectories.xlsx", XLSX, "raw and filtered foot trajectories, 2D and 3D", {"fps": fps})
            context = ReportContext(
                source="phone video, 3D keypoints", record=key.rsplit("/", 1)[-1][:16],
                axes="x right, y down, z away from the camera; lengths in metres, relative to the pelvis",
                provenance=[f"2D pose: {pose2d.manifest['backend']['name']} {pose2d.manifest['backend']['version']}; "
                            f"3D: {lift3d.manifest['backend']['name']} {lift3d.manifest['backend']['version']}; "
                            f"subject: {pose2d.meta.get('subject', {}).get('reason', '')}", video_line(videos)],
                extra_figures=[ReportFigure(writer.path("ankle_trajectories_2d.png"), "Feet in the image, raw and filtered")],
                angle_sources=evidence, near_side=near, video_outputs=videos,
                audit=[*audit_records(lift3d.lineage()), new_record(ANALYSIS, writer.backend, config)])
            files, summary = write_outputs(writer.workdir, gait, trajectories, lowpass, context)
            for file in files:
                writer.add(file.name, file.mime, file.description, file.meta)
            meta = {
                **summary, "fps": fps, "frames": len(raw2d), "cutoff_hz": lowpass.cutoff_hz, "filter_order": lowpass.order,
                "trajectories": [f"{n} (2D px)" for n in FOOT_JOINTS_2D] + [f"{n} (3D m)" for n in FOOT_JOINTS_3D],
                "high_frequency_power_ratio_2d": high_frequency_power_ratio(raw2d, filtered2d, fps, lowpass.cutoff_hz),
                "high_frequency_power_ratio_3d": high_frequency_power_ratio(raw3d, filtered3d, fps, lowpass.cutoff_hz),
                "axes_2d": axes_2d, "axes_3d": axes_3d,
            }
            return writer.commit(meta)


    @stage_method(ANALYSIS)
    def AnalyzeRecording(self, request: stages_pb2.RecordingAnalysisRequest,
                         context: grpc.ServicerContext) -> stages_pb2.AnalysisResponse:
        started = time.perf_counter()
        recording = Bundle.open(self.store, request.recording_bundle_key, expected_stage=RECORDING)
        options = recording_options(request)

        def compute(key: str) -> Bundle:
            with tempfile.TemporaryDirectory(prefix="gait-recording-") as folder:
                source = recording.fetch(recording.meta["source_file"], Path(folder))
                with BundleWriter(self.store, key, ANALYSIS, BACKEND_RECORD,
                                  {RECORDING: recording}, options.config()) as writer:
                    audit = [*audit_records(recording.lineage()), new_record(ANALYSIS, writer.backend, options.config())]
                    _, files, summary = analyze_recording(source, options, recording.digest[:16], writer.workdir, audit)
                    for file in files:
                        writer.add(file.name, file.mime, file.description, file.meta)
                    return writer.commit(summary)

        bundle, cached = cached_stage(self.store, ANALYSIS, STAGE_VERSIONS[ANALYSIS], {RECORDING: recording.digest},
                                      options.config(), compute)
        return stages_pb2.AnalysisResponse(
            outcome=outcome(bundle.key, cached, started, BACKEND), cutoff_hz=bundle.meta["cutoff_hz"],
            filter_order=bundle.meta["filter_order"], trajectories=[])


def video_outputs(pose2d: Bundle) -> dict:
    """Were the run's videos de-identified? As pose2d's manifest says (services/pose2d/videos.py)."""
    return pose2d.meta.get("deidentification", {
        "deidentified": None, "note": "the pose2d bundle records no video (keypoints from a file, `gait lift`)"})


def video_line(videos: dict) -> str:
    """The report's line on de-identification."""
    if videos["deidentified"]:
        return "Videos: de-identified, every head blurred in the exported upright video and the overlay " \
               "(docs/deidentification.md); no frame of a video is in this report."
    if videos["deidentified"] is False:
        return "Videos: NOT de-identified (research use, --no-deidentify): the exported videos show faces as filmed."
    return f"Videos: {videos['note']}."


def recording_options(request: stages_pb2.RecordingAnalysisRequest) -> AnalyzeOptions:
    """The request's options; out-of-range values are refused by the analysis itself."""
    if request.cutoff_auto and request.HasField("cutoff_hz"):
        raise InvalidInput("give either cutoff_hz or cutoff_auto, not both")
    return AnalyzeOptions(
        rate_hz=request.rate_hz if request.HasField("rate_hz") else None, units=request.units or None,
        markers=request.markers or None,
        cutoff_hz="auto" if request.cutoff_auto else (request.cutoff_hz if request.HasField("cutoff_hz") else None),
        order=request.filter_order if request.HasField("filter_order") else None, events=request.events_method or "auto",
        height_m=request.height_m if request.HasField("height_m") else None,
        age_years=request.age_years if request.HasField("age_years") else None, sex=request.sex or None,
        up_axis=request.up_axis or None, forward_axis=request.forward_axis or None)


def create_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    servicer = AnalysisServicer(open_store(config.store))
    return build_server(config, "AnalysisService",
                        lambda server: stages_pb2_grpc.add_AnalysisServiceServicer_to_server(servicer, server))


def _image_plane(keypoints2d: np.ndarray, fps: float) -> Trajectories | None:
    """The 2D keypoints as a second opinion on a side view's toe offs, or None where they cannot
    give one (too few confident frames): the 3D analysis stands without it."""
    try:
        return trajectories_2d(keypoints2d, fps, "2D keypoints")
    except InvalidInput:
        return None
