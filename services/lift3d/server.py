"""Lift3DService: pose2d bundle -> 3D keypoints (Human3.6M-17 as MotionBERT writes them, plus feet)."""
from __future__ import annotations

import threading
import time

import grpc
import numpy as np

from gait.artifacts import Bundle, BundleWriter, cached_stage
from gait.config import ServiceConfig
from gait.contracts import CONFIDENCE_3D, FEET_3D, KEYPOINTS_3D, LIFT3D, POSE2D, STAGE_VERSIONS
from gait.joints import FOOT_POINTS, H36M_17
from gait.rpc import build_server, outcome, stage_method
from gait.store import ObjectStore, open_store
from gait.v1 import stages_pb2, stages_pb2_grpc
from services.lift3d.protocol import Lift3DBackend
from services.lift3d.registry import default_backend as present_default_backend
from services.lift3d.registry import make_backend


class Lift3DServicer(stages_pb2_grpc.Lift3DServiceServicer):
    def __init__(self, store: ObjectStore, default_backend: str) -> None:
        self.store = store
        self.default_backend = default_backend
        self._backends: dict[str, Lift3DBackend] = {}   # by name: each model is loaded once per process
        self._backends_lock = threading.Lock()

    def _backend(self, name: str) -> Lift3DBackend:
        """The named backend, or the default: MotionBERT when its checkpoint is in GAIT_MODELS_DIR."""
        name = name or present_default_backend()
        with self._backends_lock:
            if name not in self._backends:
                self._backends[name] = make_backend(name)
            return self._backends[name]

    @stage_method(LIFT3D)
    def Lift(self, request: stages_pb2.Lift3DRequest, context: grpc.ServicerContext) -> stages_pb2.Lift3DResponse:
        started = time.perf_counter()
        pose2d = Bundle.open(self.store, request.pose2d_bundle_key, expected_stage=POSE2D)
        backend = self._backend(request.backend or self.default_backend)
        backend_id = f"{backend.name}/{backend.version}"
        bundle, cached = cached_stage(self.store, LIFT3D, STAGE_VERSIONS[LIFT3D], {POSE2D: pose2d.digest},
                                      {"backend": backend_id}, lambda key: self._compute(backend, pose2d, key, backend_id),
                                      cached_only=request.cached_only)
        return stages_pb2.Lift3DResponse(
            outcome=outcome(bundle.key, cached, started, backend_id),
            frames=bundle.meta["frames"], valid_fraction=bundle.meta["valid_fraction"],
        )

    def _compute(self, backend, pose2d: Bundle, key: str, backend_id: str) -> Bundle:
        lifted = backend.lift(pose2d)
        fps = float(pose2d.meta["fps"])
        frames = lifted.h36m.shape[0]
        valid = float(np.mean(np.isfinite(lifted.h36m[:, 0, 0]))) if frames else 0.0
        common = {"units": lifted.units, "axes": lifted.axes, "fps": fps, "frames": frames}
        with BundleWriter(self.store, key, LIFT3D, {"name": backend.name, "version": backend.version,
                                                    "models": list(backend.models)},
                          {POSE2D: pose2d}, {"backend": backend_id}) as writer:
            writer.add_npy(KEYPOINTS_3D, lifted.h36m.astype(np.float32),
                           "3D keypoints (frames, 17, 3) in Human3.6M order, as MotionBERT writes X3D.npy",
                           {**common, "joints": list(H36M_17), "channels": ["x", "y", "z"]})
            writer.add_npy(FEET_3D, lifted.feet.astype(np.float32), "3D heels and toes (frames, 4, 3)",
                           {**common, "joints": list(FOOT_POINTS), "channels": ["x", "y", "z"]})
            writer.add_npy(CONFIDENCE_3D, lifted.confidence.astype(np.float32),
                           "per-joint confidence (frames, 17) in [0, 1]", {"joints": list(H36M_17)})
            names = list(H36M_17) + list(FOOT_POINTS)
            points = np.concatenate([lifted.h36m, lifted.feet], axis=1)
            from gait.tables import keypoint_table, write_workbook  # XlsxWriter: only when computing

            write_workbook(writer.path("keypoints3d.xlsx"),
                           {"keypoints3d": keypoint_table(points, names, ("x", "y", "z"), fps)},
                           {"units": lifted.units, **{f"axis {k}": v for k, v in lifted.axes.items()},
                            "fps": fps, "backend": backend_id, **lifted.notes})
            writer.add("keypoints3d.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       "3D keypoints, one row per frame", common)
            return writer.commit({**common, "valid_fraction": valid, "backend": backend_id, **lifted.notes})


def create_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    servicer = Lift3DServicer(open_store(config.store), config.backend)
    return build_server(config, "Lift3DService",
                        lambda server: stages_pb2_grpc.add_Lift3DServiceServicer_to_server(servicer, server))
