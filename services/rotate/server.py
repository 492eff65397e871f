"""RotateService: ingested video bundle -> upright, constant-frame-rate video bundle."""
from __future__ import annotations

import tempfile
import time
from importlib import metadata
from pathlib import Path

import grpc

from gait.artifacts import Bundle, BundleWriter, cached_stage
from gait.config import ServiceConfig
from gait.contracts import DETECTION_PROXY, ROTATE, STAGE_VERSIONS, UPRIGHT_VIDEO, VIDEO, VIDEO_FACTS
from gait.rpc import CallGuard, build_server, outcome, stage_method
from gait.store import ObjectStore, open_store
from gait.v1 import stages_pb2, stages_pb2_grpc
from services.rotate.upright import PROXY_LONG_SIDE, UPRIGHT_PRESET, make_upright

BACKEND = "ffmpeg-libx264"
# The encoder in the audit trail: the imageio-ffmpeg wheel pins the ffmpeg binary it ships (hashing
# its 170 MB on every cold start would cost a second).
ENCODER = {"name": "ffmpeg", "version": f"imageio-ffmpeg {metadata.version('imageio-ffmpeg')}"}


class RotateServicer(stages_pb2_grpc.RotateServiceServicer):
    def __init__(self, store: ObjectStore, max_long_side: int = 0) -> None:
        self.store = store
        self.max_long_side = max_long_side  # GAIT_MAX_LONG_SIDE: larger frames are scaled down to it

    @stage_method(ROTATE)
    def Rotate(self, request: stages_pb2.RotateRequest, context: grpc.ServicerContext) -> stages_pb2.RotateResponse:
        started = time.perf_counter()
        source = Bundle.open(self.store, request.video_key, expected_stage=VIDEO)
        override = request.rotation_deg if request.HasField("rotation_deg") else None
        config = {"rotation_deg": override, "preset": UPRIGHT_PRESET, "max_long_side": self.max_long_side}
        bundle, cached = cached_stage(self.store, ROTATE, STAGE_VERSIONS[ROTATE], {VIDEO: source.digest}, config,
                                      lambda key: self._compute(source, key, override, config, CallGuard(context)),
                                      cached_only=request.cached_only)
        meta = bundle.meta
        return stages_pb2.RotateResponse(
            outcome=outcome(bundle.key, cached, started, BACKEND),
            rotation_applied_deg=meta["rotation_applied_deg"], frames=meta["frames"], fps=meta["fps"],
            width=meta["width"], height=meta["height"], duration_s=meta["duration_s"],
        )

    def _compute(self, source: Bundle, key: str, override: int | None, config: dict, guard: CallGuard) -> Bundle:
        with tempfile.TemporaryDirectory(prefix="gait-rotate-in-") as tmp:
            video = source.fetch(source.meta["source_file"], Path(tmp))
            with BundleWriter(self.store, key, ROTATE, {"name": BACKEND, "version": STAGE_VERSIONS[ROTATE],
                                                        "models": [ENCODER]}, {VIDEO: source}, config) as writer:
                upright = make_upright(video, writer.path(UPRIGHT_VIDEO), writer.path(DETECTION_PROXY), override,
                                       guard.should_continue, self.max_long_side)
                meta = upright.as_meta()
                how = ("H.264, the source's own stream (already upright at a constant frame rate)"
                       if upright.stream_copied else "H.264 re-encoded at a constant frame rate")
                writer.add(UPRIGHT_VIDEO, "video/mp4", f"the video with its frames upright, {how}, no audio or metadata",
                           {"fps": upright.fps, "frames": upright.frames, "width": upright.width, "height": upright.height})
                writer.add(DETECTION_PROXY, "video/mp4", "the same frames at most 640 px on their long side, for person detection",
                           {"fps": upright.fps, "frames": upright.frames, "long_side_px": PROXY_LONG_SIDE})
                writer.add_json(VIDEO_FACTS, meta, "facts about the upright video and the rotation applied",
                                {"units": {"fps": "1/s", "duration_s": "s", "rotation": "degrees clockwise"}})
                return writer.commit(meta)


def create_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    servicer = RotateServicer(open_store(config.store), config.max_long_side)
    return build_server(config, "RotateService",
                        lambda server: stages_pb2_grpc.add_RotateServiceServicer_to_server(servicer, server))
