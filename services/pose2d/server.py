"""Pose2DService: upright video bundle -> the walking subject's 2D keypoints (Halpe-26)."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import numpy as np

from gait.artifacts import Bundle, BundleWriter, cached_stage
from gait.assets import FACE_DETECTOR
from gait.config import ServiceConfig, models_dir
from gait.contracts import (
    BLAZEPOSE_WORLD,
    DEIDENTIFIED_UPRIGHT,
    DETECTION_PROXY,
    KEYPOINTS_2D,
    OVERLAY,
    POSE2D,
    ROTATE,
    STAGE_VERSIONS,
    SUBJECT,
    UPRIGHT_VIDEO,
    VIDEO,
)
from gait.errors import InvalidInput, ModelMissing
from gait.joints import BLAZEPOSE_33, COCO_17, HALPE_26
from gait.provenance import model_identity
from gait.rpc import CallGuard, build_server, outcome, stage_method
from gait.store import ObjectStore, open_store
from gait.v1 import stages_pb2, stages_pb2_grpc
from services.pose2d.outputs import alphapose_results
from services.pose2d.protocol import Pose2DBackend, Pose2DResult
from services.pose2d.registry import backend_class, backend_version

if TYPE_CHECKING:
    from services.pose2d.faces import FaceDetector

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Pose2DServicer(stages_pb2_grpc.Pose2DServiceServicer):
    def __init__(self, store: ObjectStore, num_threads: int, default_backend: str, preset: str) -> None:
        self.store = store
        self.num_threads = num_threads
        self.preset = preset  # x264 preset of the videos pose2d writes (GAIT_X264_PRESET)
        self.default_backend = default_backend  # empty: AlphaPose when its checkpoint is present, else BlazePose
        self._backends: dict[tuple[str, float], Pose2DBackend] = {}
        self._faces: FaceDetector | None = None
        self._face_model: dict[str, str] = {}
        # Model interpreters are not thread-safe and use all the pod's cores: one estimate at a time.
        self._lock = threading.Lock()

    def _backend(self, cls: type, min_score: float) -> Pose2DBackend:
        if (cls.name, min_score) not in self._backends:
            self._backends[(cls.name, min_score)] = cls(num_threads=self.num_threads, min_detection_score=min_score)
        return self._backends[(cls.name, min_score)]

    def _face_detector(self) -> FaceDetector:
        if self._faces is None:
            path = models_dir() / FACE_DETECTOR.target
            if not path.is_file():
                raise ModelMissing(f"model file {path} (the face detector of de-identification) is missing: run "
                                   "`gait fetch-assets` (see README)")
            from services.pose2d.faces import FaceDetector  # the model runtime: only when computing

            self._faces = FaceDetector(path, self.num_threads)
            self._face_model = model_identity(FACE_DETECTOR.target, path)
        return self._faces

    @stage_method(POSE2D)
    def EstimatePose(self, request: stages_pb2.Pose2DRequest, context: grpc.ServicerContext) -> stages_pb2.Pose2DResponse:
        started = time.perf_counter()
        video = Bundle.open(self.store, request.video_bundle_key, expected_stage=ROTATE)
        min_score = round(float(request.min_detection_score), 4) if request.HasField("min_detection_score") else 0.5
        if not 0 < min_score < 1:
            raise InvalidInput(f"min_detection_score must be between 0 and 1 (got {min_score:g})")
        cls = backend_class(request.backend or self.default_backend)
        deidentify = not request.skip_deidentify
        config = {"backend": f"{cls.name}/{backend_version(cls)}", "min_detection_score": min_score,
                  "overlay": not request.skip_overlay, "deidentify": deidentify,
                  "preset": self.preset}

        def compute(key: str) -> Bundle:
            with self._lock:
                return self._compute(self._backend(cls, min_score), video, key, config, not request.skip_overlay,
                                     deidentify, CallGuard(context))

        bundle, cached = cached_stage(self.store, POSE2D, STAGE_VERSIONS[POSE2D], {VIDEO: video.digest}, config, compute,
                                      cached_only=request.cached_only)
        meta = bundle.meta
        return stages_pb2.Pose2DResponse(
            outcome=outcome(bundle.key, cached, started, config["backend"]), frames=meta["frames"],
            detection_rate=meta["detection_rate"], subject_track=meta["subject"]["track_id"],
            subject_reason=meta["subject"]["reason"], frames_per_second=0.0 if cached else meta["frames_per_second"],
        )

    def _compute(self, backend: Pose2DBackend, video: Bundle, key: str, config: dict, overlay: bool, deidentify: bool,
                 guard: CallGuard) -> Bundle:
        info = video.meta
        fps = float(info["fps"])
        from services.pose2d.videos import VideoOutputs  # OpenCV and the encoders: only when computing

        faces = self._face_detector() if deidentify else None
        made_by = {"name": backend.name, "version": backend.version,
                   "models": [*backend.models, *([self._face_model] if faces is not None else [])]}
        with tempfile.TemporaryDirectory(prefix="gait-pose2d-in-") as tmp, \
                BundleWriter(self.store, key, POSE2D, made_by, {VIDEO: video}, config) as writer:
            source = video.fetch(UPRIGHT_VIDEO, Path(tmp))
            proxy = video.fetch(DETECTION_PROXY, Path(tmp))
            started = time.perf_counter()
            with VideoOutputs(info["width"], info["height"], fps, writer.path(OVERLAY) if overlay else None,
                              writer.path(DEIDENTIFIED_UPRIGHT) if deidentify else None, faces, self.preset) as videos:
                wanted = overlay or deidentify
                result = backend.estimate(source, fps, videos.on_frame if wanted else None, guard.should_continue, proxy)
            speed = len(result.keypoints) / max(time.perf_counter() - started, 1e-9)
            return self._write(writer, result, fps, speed, overlay, info, videos.summary())

    def _write(self, writer: BundleWriter, result: Pose2DResult, fps: float, speed: float, overlay: bool, info: dict,
               deidentification: dict) -> Bundle:
        frames = len(result.keypoints)
        found = result.scores > 0
        layout, joints = (result.layout, list(HALPE_26 if result.layout == "halpe26" else COCO_17))
        image = {"units": "px", "axes": {"x": "right in the upright image", "y": "down"}, "fps": fps, "frames": frames,
                 "width": info["width"], "height": info["height"]}
        writer.add_json("alphapose-results.json",
                        alphapose_results(result.keypoints, result.scores, result.boxes, result.subject["track_id"]),
                        f"AlphaPose result format ({layout}), the analyzed subject only",
                        {**image, "layout": layout, "joints": joints})
        writer.add_npy(KEYPOINTS_2D, result.keypoints.astype(np.float32),
                       f"the subject's 2D keypoints (frames, {len(joints)}, 3): x, y, score; NaN where not found",
                       {**image, "layout": layout, "joints": joints, "channels": ["x", "y", "score"]})
        if result.world is not None:
            writer.add_npy(BLAZEPOSE_WORLD, result.world.astype(np.float32),
                           "BlazePose world landmarks (frames, 33, 4): x, y, z metres, visibility",
                           {"units": "m", "fps": fps, "frames": frames, "joints": list(BLAZEPOSE_33),
                            "channels": ["x", "y", "z", "visibility"],
                            "axes": {"x": "right", "y": "down", "z": "away from the camera", "origin": "mid-hip"}})
        from gait.tables import keypoint_table, write_workbook  # XlsxWriter: only when computing

        write_workbook(writer.path("keypoints2d.xlsx"),
                       {"keypoints2d": keypoint_table(result.keypoints, joints, ("x", "y", "score"), fps)},
                       {"units": "px (x right, y down) in the upright video", "fps": fps, "layout": layout,
                        "backend": f"{writer.backend['name']}/{writer.backend['version']}",
                        "subject": result.subject["reason"]})
        writer.add("keypoints2d.xlsx", XLSX, "the subject's 2D keypoints, one row per frame", image)
        writer.add_json(SUBJECT, result.subject, "which person was analyzed, why, and the other candidates")
        blurred = deidentification["deidentified"]
        if overlay:
            writer.add(OVERLAY, "video/mp4", "the upright video with the subject's skeleton drawn"
                       + (", every head blurred" if blurred else ""), {"fps": fps, "deidentified": blurred})
        if blurred:
            writer.add(DEIDENTIFIED_UPRIGHT, "video/mp4", "rotate's upright video with every head blurred (de-identified); "
                       "exported as video/upright.mp4", {"fps": fps, "frames": frames, "width": info["width"],
                                                         "height": info["height"], "deidentified": True})
        return writer.commit({
            "fps": fps, "frames": frames, "width": info["width"], "height": info["height"],
            "detection_rate": float(found.mean()) if frames else 0.0, "frames_per_second": speed,
            "subject": {"track_id": result.subject["track_id"], "reason": result.subject["reason"]},
            "layout": layout, "deidentification": deidentification, **result.notes,
        })


def create_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    servicer = Pose2DServicer(open_store(config.store), config.num_threads, config.backend, config.x264_preset)
    return build_server(config, "Pose2DService",
                        lambda server: stages_pb2_grpc.add_Pose2DServiceServicer_to_server(servicer, server))
