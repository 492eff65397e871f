"""The MotionBERT lift3d backend: 2D keypoints of a pose2d bundle -> Human3.6M-17 3D keypoints in metres.

MotionBERT (Zhu et al. 2023) predicts 3D in the units of its normalised 2D input: x and y along
the image, z the depth away from the camera on the same scale, here in pixels (upstream's
--pixel mode). The project's contract is metric and root-relative, so the output is
1. made root-relative (pelvis subtracted per frame), and
2. scaled to metres by one factor per sequence: from BlazePose's metric world landmarks when the
   pose2d bundle has them (ratio of the median leg and trunk segment lengths), otherwise from a
   nominal body height (thigh + shank = 0.491 x height, Winter 2009, Biomechanics and Motor
   Control of Human Movement, table 4.1), which the metadata says.

Heels and toes: MotionBERT has none. With BlazePose world landmarks they are put on MotionBERT's
ankles at BlazePose's metric ankle-to-heel and ankle-to-toe offsets; from AlphaPose Halpe-26
alone, at the 2D offsets scaled to metres with no depth offset (the foot assumed parallel to the
image plane, which a side view nearly gives); COCO-17 input has no feet, and they are NaN.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from gait.artifacts import Bundle
from gait.checkpoints import load_placed
from gait.config import models_dir
from gait.contracts import BLAZEPOSE_WORLD, KEYPOINTS_2D
from gait.errors import InvalidInput
from gait.joints import (
    BLAZEPOSE_33,
    H36M_17,
    HALPE_26,
    blazepose_to_halpe26,
    halpe26_foot_points,
    halpe26_to_h36m17,
    to_h36m17,
)
from services.lift3d.motionbert.checkpoints import load_checkpoint
from services.lift3d.motionbert.configs import CHECKPOINTS, CONFIGS
from services.lift3d.motionbert.inference import ClipLifter, fill_gaps, infer_wild
from services.lift3d.protocol import CAMERA_AXES, Lifted3D

# Segments (H36M-17 names) whose lengths set the metric scale: legs and trunk.
SCALE_SEGMENTS = (("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("left_hip", "left_knee"),
                  ("left_knee", "left_ankle"), ("pelvis", "thorax"))
LEG_TO_HEIGHT = 0.245 + 0.246  # thigh + shank over body height (Winter 2009, table 4.1)
_J = {name: i for i, name in enumerate(H36M_17)}


def segment_lengths(points: np.ndarray) -> np.ndarray:
    """(frames, 17, 3) -> (frames, len(SCALE_SEGMENTS)) Euclidean lengths."""
    a = points[:, [_J[a] for a, _ in SCALE_SEGMENTS]]
    b = points[:, [_J[b] for _, b in SCALE_SEGMENTS]]
    return np.linalg.norm(a - b, axis=-1)


class MotionBERTBackend:
    """MotionBERT's DSTformer (Zhu et al. 2023, ICCV, arXiv:2210.06551) on the pose2d bundle's 2D
    keypoints, with upstream's in-the-wild inference (see services/lift3d/motionbert/inference.py).

    Parameters
    ----------
    root
        Folder holding the checkpoints (default GAIT_MODELS_DIR).
    device
        "cuda", "cpu" or None (CUDA when available; half precision on CUDA).
    clips_per_batch
        243-frame clips per forward pass (default 32 on CUDA, 4 on CPU).
    normalisation
        "image" (upstream's --pixel: by image size, as the training data) or "box" (upstream's
        default crop_scale: by the sequence's bounding box; the output is then rescaled to pixels
        by the box's size).
    nominal_height_m
        Body height that sets the metric scale when the pose2d bundle has no metric landmarks.
    """

    name = "motionbert"

    def __init__(self, root: Path | None = None, device: str | None = None, clips_per_batch: int | None = None,
                 normalisation: str = "image", nominal_height_m: float = 1.70) -> None:
        if normalisation not in ("image", "box"):
            raise ValueError(f"normalisation must be 'image' or 'box', got {normalisation!r}")
        root = models_dir() if root is None else Path(root)
        placed = load_placed(root, CHECKPOINTS, "no MotionBERT checkpoint: put upstream's best_epoch.bin",
                             lambda path, checkpoint: load_checkpoint(path, CONFIGS[checkpoint.config]))
        self.checkpoint, self.config = placed.checkpoint, CONFIGS[placed.checkpoint.config]
        self.sha256, self.version = placed.sha256, placed.version
        self.models = ({"name": self.checkpoint.path, "sha256": self.sha256},)
        self.lifter = ClipLifter(placed.model, self.config, device=device, clips_per_batch=clips_per_batch)
        self.normalisation = normalisation
        self.nominal_height_m = nominal_height_m

    def lift(self, pose2d: Bundle) -> Lifted3D:
        if KEYPOINTS_2D not in pose2d.files:
            raise InvalidInput(f"the pose2d bundle {pose2d.key!r} has no keypoints2d.npy")
        keypoints = pose2d.read_npy(KEYPOINTS_2D)
        if keypoints.ndim != 3 or keypoints.shape[1:] not in ((26, 3), (17, 3)):
            raise InvalidInput(f"keypoints2d.npy has shape {keypoints.shape}, expected (frames, 26 or 17, 3)")
        width, height = pose2d.meta.get("width"), pose2d.meta.get("height")
        if not width or not height:
            raise InvalidInput(f"the pose2d bundle {pose2d.key!r} does not say the image size (width, height)")
        try:
            filled, observed = fill_gaps(keypoints)
        except ValueError as exc:
            raise InvalidInput(f"the pose2d bundle {pose2d.key!r}: {exc}") from None

        # (frames, 17, 3) in pixels: x, y image positions, z depth on the same scale
        if self.normalisation == "image":
            pixels = infer_wild(self.lifter, filled, (float(width), float(height)))
        else:
            pixels = infer_wild(self.lifter, filled) * self._box_size(filled) / 2
        relative = pixels - pixels[:, :1]                                   # root-relative
        world = pose2d.read_npy(BLAZEPOSE_WORLD) if BLAZEPOSE_WORLD in pose2d.files else None
        metres_per_px, scale_note = self._scale(relative, observed, world)
        h36m = (relative * metres_per_px).astype(np.float32)
        h36m[~observed] = np.nan
        feet, feet_note = self._feet(h36m, keypoints, world, metres_per_px)
        confidence = to_h36m17(np.nan_to_num(keypoints, nan=0.0))[..., 2]
        confidence[~observed] = 0.0
        return Lifted3D(
            h36m=h36m, feet=feet, confidence=np.clip(confidence, 0, 1).astype(np.float32), units="m",
            axes=CAMERA_AXES,
            notes={
                "method": "MotionBERT DSTformer (Zhu et al. 2023) on the 2D keypoints, upstream's in-the-wild "
                          "inference (243-frame clips, flip augmentation), root-relative",
                "checkpoint": f"{self.checkpoint.path} (sha256 {self.sha256}; {self.checkpoint.licence})",
                "config": self.config.name,
                "normalisation": {"image": "by image size (upstream's --pixel)",
                                  "box": "by the sequence's bounding box (upstream's crop_scale)"}[self.normalisation],
                "scale": scale_note,
                "feet": feet_note,
                "device": f"{self.lifter.device.type} ({'float16' if self.lifter.half else 'float32'})",
            },
        )

    @staticmethod
    def _box_size(filled: np.ndarray) -> float:
        """The longer side in pixels of the box crop_scale normalises by."""
        valid = to_h36m17(filled)
        valid = valid[valid[..., 2] != 0][:, :2]
        return float(max(valid.max(axis=0) - valid.min(axis=0))) if len(valid) >= 4 else 1.0

    def _scale(self, relative: np.ndarray, observed: np.ndarray, world: np.ndarray | None) -> tuple[float, str]:
        """Metres per output unit, and how it was found."""
        lengths = segment_lengths(relative[observed])
        if world is not None and world.shape[1:] == (len(BLAZEPOSE_33), 4):
            metric = segment_lengths(halpe26_to_h36m17(blazepose_to_halpe26(world[..., :3])))
            reference = np.nanmedian(metric, axis=0)
            if np.isfinite(reference).all() and np.median(lengths, axis=0).sum() > 0:
                factor = float(reference.sum() / np.median(lengths, axis=0).sum())
                return factor, ("from BlazePose's metric world landmarks: median leg and trunk segment lengths "
                                f"({factor:.5f} m per unit)")
        leg = float(np.median(lengths[:, :4], axis=0).reshape(2, 2).sum(axis=1).mean())
        if not leg > 0:
            raise InvalidInput("MotionBERT's 3D legs have no length: the 2D keypoints give no body to scale")
        factor = LEG_TO_HEIGHT * self.nominal_height_m / leg
        return factor, (f"nominal: thigh + shank = {LEG_TO_HEIGHT} x a body height of {self.nominal_height_m} m "
                        f"(Winter 2009); lengths scale with the subject's true height ({factor:.5f} m per unit)")

    def _feet(self, h36m: np.ndarray, keypoints: np.ndarray, world: np.ndarray | None,
              metres_per_px: float) -> tuple[np.ndarray, str]:
        """(frames, 4, 3) heels and toes (FOOT_POINTS order) placed on MotionBERT's ankles."""
        ankles = h36m[:, [_J["left_ankle"], _J["right_ankle"]] * 2]         # left, right, left, right
        if world is not None and world.shape[1:] == (len(BLAZEPOSE_33), 4):
            halpe = blazepose_to_halpe26(world[..., :3])
            offsets = halpe26_foot_points(halpe) - halpe[:, [HALPE_26.index("left_ankle"),
                                                             HALPE_26.index("right_ankle")] * 2]
            return (ankles + offsets).astype(np.float32), \
                "BlazePose's metric ankle-to-heel and ankle-to-toe offsets placed on MotionBERT's ankles"
        if keypoints.shape[1] == len(HALPE_26):
            points = keypoints.astype(np.float32).copy()
            points[points[..., 2] <= 0] = np.nan                           # unseen 2D points
            offsets = halpe26_foot_points(points[..., :2]) - points[:, [HALPE_26.index("left_ankle"),
                                                                        HALPE_26.index("right_ankle")] * 2, :2]
            offsets = np.concatenate([offsets * metres_per_px, np.zeros_like(offsets[..., :1])], axis=-1)
            return (ankles + offsets).astype(np.float32), \
                "AlphaPose's 2D ankle-to-heel and ankle-to-big-toe offsets, scaled to metres, no depth offset"
        return np.full(ankles.shape, np.nan, dtype=np.float32), "none: COCO-17 keypoints have no heels or toes"
