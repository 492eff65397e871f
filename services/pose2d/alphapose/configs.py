"""AlphaPose's released FastPose configurations and checkpoint files, and its person detector's weights
file (DETECTOR; no PyTorch needed to read them).

The values are those of upstream's config files (MVIG-SJTU/AlphaPose, configs/halpe_26/resnet/
256x192_res50_lr1e-3_1x.yaml and configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml) that build the
network (MODEL: TYPE FastPose, NUM_LAYERS 50, no CONV_DIM so 128; DATA_PRESET: NUM_JOINTS) and
steer inference (DATA_PRESET: IMAGE_SIZE 256x192, HEATMAP_SIZE 64x48; LOSS: MSELoss, so heatmaps
decoded by heatmap_to_coord_simple). The checkpoints are bare state dicts (`torch.save(
model.state_dict())`), loaded by upstream's demo with `load_state_dict` as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

from gait.joints import COCO_17, HALPE_26

LICENCE = ("AlphaPose licence: non-commercial use only (academic and non-profit research); "
           "commercial use needs a licence from SJTU MVIG")


@dataclass(frozen=True)
class FastPoseConfig:
    """One upstream config file's model and inference settings."""

    name: str                          # upstream's config file, configs/<name>.yaml
    num_joints: int
    layout: str                        # "halpe26" or "coco17"
    joint_pairs: tuple[tuple[int, int], ...]   # left/right pairs swapped by a horizontal flip
    num_layers: int = 50
    conv_dim: int = 128
    image_size: tuple[int, int] = (256, 192)   # network input, height x width
    heatmap_size: tuple[int, int] = (64, 48)   # height x width

    @property
    def joints(self) -> tuple[str, ...]:
        return HALPE_26 if self.layout == "halpe26" else COCO_17

    def model_kwargs(self) -> dict:
        return {"NUM_JOINTS": self.num_joints, "NUM_LAYERS": self.num_layers, "CONV_DIM": self.conv_dim}

    def build(self):
        """A FastPose of this configuration (imports PyTorch)."""
        from services.pose2d.alphapose.fastpose import FastPose

        return FastPose(**self.model_kwargs())


# The joint pairs of upstream's datasets (alphapose/datasets/mscoco.py, halpe_26.py).
COCO_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
HALPE_PAIRS = COCO_PAIRS + ((20, 21), (22, 23), (24, 25))

CONFIGS: dict[str, FastPoseConfig] = {c.name: c for c in (
    FastPoseConfig("halpe_26/resnet/256x192_res50_lr1e-3_1x", num_joints=26, layout="halpe26", joint_pairs=HALPE_PAIRS),
    FastPoseConfig("coco/resnet/256x192_res50_lr1e-3_1x", num_joints=17, layout="coco17", joint_pairs=COCO_PAIRS),
)}


@dataclass(frozen=True)
class Checkpoint:
    """A released checkpoint: where it goes under the models folder and which config built it."""

    path: str           # relative to GAIT_MODELS_DIR; upstream's file name under pretrained_models/
    config: str
    description: str
    licence: str = LICENCE

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".pth")


# In order of preference when both are present: Halpe-26 has the heels and toes the gait analysis
# uses. Upstream publishes no SHA-256 for either (Google Drive / Baidu links in docs/MODEL_ZOO.md).
CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint("alphapose/halpe26_fast_res50_256x192.pth", "halpe_26/resnet/256x192_res50_lr1e-3_1x",
               "AlphaPose FastPose ResNet-50, Halpe-26 (26 joints with heels and toes), 256x192 "
               "(docs/MODEL_ZOO.md: Halpe dataset, Fast Pose)"),
    Checkpoint("alphapose/fast_res50_256x192.pth", "coco/resnet/256x192_res50_lr1e-3_1x",
               "AlphaPose FastPose ResNet-50, COCO-17, 256x192 (docs/MODEL_ZOO.md: COCO, Fast Pose)"),
)


@dataclass(frozen=True)
class DetectorWeights:
    """AlphaPose's person detector weights: where the file goes under the models folder."""

    path: str           # relative to GAIT_MODELS_DIR
    description: str
    licence: str
    sha256: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".weights")


# Upstream's default detector (detector/yolo_cfg.py: cfg/yolov3-spp.cfg, detector/yolo/data/yolov3-spp.weights,
# linked from AlphaPose's docs/INSTALL.md). The file is darknet's, from Joseph Redmon's YOLOv3 release
# (pjreddie.com/darknet/yolo); neither AlphaPose nor that page publishes a checksum, so none is pinned.
DETECTOR = DetectorWeights(
    "alphapose/yolov3-spp.weights",
    "YOLOv3-SPP person detector, darknet weights (COCO, 80 classes; AlphaPose's detector/yolo/data/yolov3-spp.weights)",
    "as distributed with AlphaPose: AlphaPose licence, non-commercial use only; the weights are originally "
    "Joseph Redmon's YOLOv3 release (darknet, public domain)",
)
