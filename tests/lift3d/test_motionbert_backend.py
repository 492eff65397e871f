"""The MotionBERT lift3d backend: chosen when its checkpoint is present, writing the 3D contract.

The checkpoint here has the official lite layout with randomly initialised weights, so the 3D
shapes are meaningless; what is checked is the contract around them: strict loading, units,
root-relative metres, NaN where no pose, feet, confidence, and the metadata naming the backend.
"""
from __future__ import annotations

import grpc
import numpy as np
import pytest
import torch

from gait.artifacts import Bundle, BundleWriter
from gait.config import StoreConfig
from gait.errors import ModelMissing
from gait.joints import BLAZEPOSE_33, H36M_17, HALPE_26, blazepose_to_halpe26, halpe26_to_h36m17
from gait.store import open_store
from gait.v1 import stages_pb2
from services.lift3d.motionbert.backend import LEG_TO_HEIGHT, MotionBERTBackend, segment_lengths
from services.lift3d.motionbert.configs import CHECKPOINTS, CONFIGS
from services.lift3d.registry import default_backend, make_backend
from services.lift3d.server import Lift3DServicer

FRAMES, WIDTH, HEIGHT = 40, 1280, 720
MISSING = [10, 11, 12]
_B = {name: i for i, name in enumerate(BLAZEPOSE_33)}


def _blazepose_world() -> np.ndarray:
    """(FRAMES, 33, 4) a standing body in metres (x right, y down, z away, mid-hip origin) whose
    legs swing, with visibility; NaN where there is no pose."""
    rest = {
        "nose": (0, -0.62, -0.08), "left_eye_inner": (0.02, -0.66, -0.07), "left_eye": (0.035, -0.66, -0.06),
        "left_eye_outer": (0.05, -0.66, -0.05), "right_eye_inner": (-0.02, -0.66, -0.07),
        "right_eye": (-0.035, -0.66, -0.06), "right_eye_outer": (-0.05, -0.66, -0.05), "left_ear": (0.08, -0.64, 0.0),
        "right_ear": (-0.08, -0.64, 0.0), "mouth_left": (0.025, -0.58, -0.07), "mouth_right": (-0.025, -0.58, -0.07),
        "left_shoulder": (0.19, -0.48, 0.0), "right_shoulder": (-0.19, -0.48, 0.0), "left_elbow": (0.22, -0.2, 0.02),
        "right_elbow": (-0.22, -0.2, 0.02), "left_wrist": (0.23, 0.05, -0.02), "right_wrist": (-0.23, 0.05, -0.02),
        "left_pinky": (0.24, 0.12, -0.02), "right_pinky": (-0.24, 0.12, -0.02), "left_index": (0.23, 0.13, -0.04),
        "right_index": (-0.23, 0.13, -0.04), "left_thumb": (0.21, 0.1, -0.05), "right_thumb": (-0.21, 0.1, -0.05),
        "left_hip": (0.1, 0.0, 0.0), "right_hip": (-0.1, 0.0, 0.0), "left_knee": (0.1, 0.43, -0.02),
        "right_knee": (-0.1, 0.43, -0.02), "left_ankle": (0.1, 0.85, 0.02), "right_ankle": (-0.1, 0.85, 0.02),
        "left_heel": (0.1, 0.9, 0.08), "right_heel": (-0.1, 0.9, 0.08), "left_foot_index": (0.1, 0.92, -0.14),
        "right_foot_index": (-0.1, 0.92, -0.14),
    }
    points = np.array([rest[name] for name in BLAZEPOSE_33], dtype=np.float32)
    world = np.repeat(points[None], FRAMES, axis=0)
    phase = np.sin(np.linspace(0, 4 * np.pi, FRAMES))[:, None]
    for side, sign in (("left", 1.0), ("right", -1.0)):          # legs swing forward and back in depth
        lower = [_B[f"{side}_{n}"] for n in ("knee", "ankle", "heel", "foot_index")]
        world[:, lower, 2] += sign * 0.15 * phase
    world = np.concatenate([world, np.full((FRAMES, 33, 1), 0.9, np.float32)], axis=-1)
    world[MISSING] = np.nan
    return world


def _keypoints2d(world: np.ndarray) -> np.ndarray:
    """(FRAMES, 26, 3) Halpe-26 pixels: the body 4 m in front of an 800-px camera, walking right."""
    halpe = blazepose_to_halpe26(world[..., :3])
    camera = halpe + np.array([0.0, 0.0, 4.0]) + np.linspace(-1, 1, FRAMES)[:, None, None] * [1.0, 0.0, 0.0]
    xy = 800 * camera[..., :2] / camera[..., 2:3] + [WIDTH / 2, HEIGHT / 2]
    keypoints = np.concatenate([xy, np.full((FRAMES, 26, 1), 0.85)], axis=-1).astype(np.float32)
    keypoints[MISSING, :, 2] = 0.0
    return keypoints


def _pose2d_bundle(store, name: str, keypoints: np.ndarray, world: np.ndarray | None) -> Bundle:
    with BundleWriter(store, f"pose2d/{name}", "pose2d", {"name": "test", "version": "1"}, {}, {}) as writer:
        writer.add_npy("keypoints2d.npy", keypoints, "2D keypoints")
        if world is not None:
            writer.add_npy("blazepose_world.npy", world, "BlazePose world landmarks")
        return writer.commit({"fps": 30.0, "frames": FRAMES, "width": WIDTH, "height": HEIGHT})


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A models folder holding a checkpoint in upstream's lite layout (DataParallel keys), random weights."""
    root = tmp_path_factory.mktemp("models")
    checkpoint = next(c for c in CHECKPOINTS if c.config == "MB_ft_h36m_global_lite")
    torch.manual_seed(0)
    model = CONFIGS[checkpoint.config].build()
    path = root / checkpoint.path
    path.parent.mkdir(parents=True)
    torch.save({"epoch": 60, "model_pos": {"module." + k: v for k, v in model.state_dict().items()},
                "min_loss": np.float64(40.0)}, path)
    return root


@pytest.fixture()
def store(tmp_path):
    return open_store(StoreConfig(backend="local", local_dir=tmp_path / "store"))


@pytest.fixture(scope="module")
def backend(models):
    return MotionBERTBackend(root=models, device="cpu")


class _Context:
    """The parts of a grpc.ServicerContext the servicer touches, for calling it in-process."""

    def invocation_metadata(self):
        return (("gait-requested-by", "tests@loopback"),)

    def abort(self, code: grpc.StatusCode, message: str):
        raise AssertionError(f"{code.name}: {message}")


def test_default_backend_follows_the_checkpoint(models, tmp_path, monkeypatch):
    monkeypatch.setenv("GAIT_MODELS_DIR", str(tmp_path))
    assert default_backend() == "blazepose-world"
    monkeypatch.setenv("GAIT_MODELS_DIR", str(models))
    assert default_backend() == "motionbert"


def test_lift3d_service_keeps_the_default_without_checkpoint(store, tmp_path, monkeypatch):
    monkeypatch.setenv("GAIT_MODELS_DIR", str(tmp_path))
    world = _blazepose_world()
    pose2d = _pose2d_bundle(store, "walker", _keypoints2d(world), world)
    response = Lift3DServicer(store, "").Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=pose2d.key), _Context())
    assert response.outcome.backend == "blazepose-world/1"
    assert Bundle.open(store, response.outcome.bundle_key).manifest["backend"]["name"] == "blazepose-world"


def test_lift3d_service_uses_motionbert_when_present(models, store, monkeypatch):
    monkeypatch.setenv("GAIT_MODELS_DIR", str(models))
    world = _blazepose_world()
    pose2d = _pose2d_bundle(store, "walker", _keypoints2d(world), world)
    servicer = Lift3DServicer(store, "")
    response = servicer.Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=pose2d.key), _Context())
    assert response.outcome.backend.startswith("motionbert/FT_MB_lite_MB_ft_h36m_global_lite-")
    assert response.frames == FRAMES and response.valid_fraction == pytest.approx(1 - len(MISSING) / FRAMES)
    bundle = Bundle.open(store, response.outcome.bundle_key, expected_stage="lift3d")
    assert bundle.manifest["backend"]["name"] == "motionbert"
    assert "sha256" in bundle.meta["checkpoint"] and "BlazePose" in bundle.meta["scale"]
    x3d, feet = bundle.read_npy("X3D.npy"), bundle.read_npy("feet3d.npy")
    meta = bundle.file_meta("X3D.npy")
    assert x3d.shape == (FRAMES, 17, 3) and meta["units"] == "m" and meta["joints"] == list(H36M_17)
    assert meta["axes"]["z"].startswith("away from the camera")
    assert np.isnan(x3d[MISSING]).all() and np.isfinite(np.delete(x3d, MISSING, axis=0)).all()
    found = np.isfinite(x3d[:, 0, 0])
    assert np.all(x3d[found, 0] == 0)                                       # root-relative
    # one metric factor: the median leg and trunk lengths add up to BlazePose's
    metric = np.nanmedian(segment_lengths(halpe26_to_h36m17(blazepose_to_halpe26(world[..., :3]))), axis=0).sum()
    assert np.median(segment_lengths(x3d[found]), axis=0).sum() == pytest.approx(metric, rel=1e-4)
    # heels and toes at BlazePose's metric offsets from MotionBERT's ankles
    ankle = H36M_17.index("left_ankle")
    offset = world[found][:, _B["left_heel"], :3] - world[found][:, _B["left_ankle"], :3]
    np.testing.assert_allclose(feet[found, 0] - x3d[found, ankle], offset, atol=1e-5)
    confidence = bundle.read_npy("confidence3d.npy")
    assert np.all(confidence[MISSING] == 0) and np.allclose(confidence[found], 0.85)
    again = servicer.Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=pose2d.key), _Context())
    assert again.outcome.cached and again.outcome.bundle_key == response.outcome.bundle_key


def test_alphapose_only_input_gets_a_nominal_scale(backend, store):
    keypoints = _keypoints2d(_blazepose_world())
    lifted = backend.lift(_pose2d_bundle(store, "alphapose", keypoints, None))
    found = np.isfinite(lifted.h36m[:, 0, 0])
    legs = np.median(segment_lengths(lifted.h36m[found])[:, :4], axis=0)
    assert (legs[0] + legs[1] + legs[2] + legs[3]) / 2 == pytest.approx(LEG_TO_HEIGHT * 1.70, rel=1e-4)
    assert "nominal" in lifted.notes["scale"] and lifted.units == "m"
    # heels from the 2D offsets, scaled, in the image plane
    heel = lifted.feet[found, 1] - lifted.h36m[found, H36M_17.index("right_ankle")]
    assert np.all(heel[:, 2] == 0)
    pixels = keypoints[found][:, HALPE_26.index("right_heel"), :2] - keypoints[found][:, HALPE_26.index("right_ankle"), :2]
    ratio = np.linalg.norm(heel[:, :2], axis=1) / np.linalg.norm(pixels, axis=1)
    assert np.allclose(ratio, ratio[0], rtol=1e-4) and ratio[0] > 0


def test_coco_input_has_no_feet(backend, store):
    keypoints = _keypoints2d(_blazepose_world())[:, :17]
    lifted = backend.lift(_pose2d_bundle(store, "coco", keypoints, None))
    assert lifted.h36m.shape == (FRAMES, 17, 3) and np.isnan(lifted.feet).all()
    assert lifted.notes["feet"].startswith("none")


def test_missing_or_wrong_checkpoint_is_a_missing_model(tmp_path, monkeypatch):
    monkeypatch.setenv("GAIT_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelMissing, match="no MotionBERT checkpoint: put upstream's best_epoch.bin at .*best_epoch.bin"):
        make_backend("motionbert")
    path = tmp_path / CHECKPOINTS[0].path
    path.parent.mkdir(parents=True)
    torch.save({"model_pos": CONFIGS["MB_ft_h36m"].build().state_dict()}, path)   # full weights at the lite path
    with pytest.raises(ModelMissing, match=r"does not fit the network: wrong shapes: .*\(expected"):
        make_backend("motionbert")
