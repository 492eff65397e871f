"""MotionBERT's released 3D-pose configurations and checkpoint files (no PyTorch needed to read them).

The values are those of upstream's config files (Walter0807/MotionBERT, configs/pose3d/*.yaml)
that build the network (load_backbone) and steer in-the-wild inference (infer_wild.py: flip,
rootrel; every released config keeps the confidence channel, no_conf: False). Checkpoints are
upstream's `best_epoch.bin` files: a dict whose `model_pos` entry is the network's state dict,
saved from nn.DataParallel (keys prefixed `module.`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MotionBERTConfig:
    """One upstream config file's model and inference settings."""

    name: str           # upstream's config file, configs/pose3d/<name>.yaml
    dim_feat: int
    dim_rep: int
    depth: int
    num_heads: int
    mlp_ratio: float
    maxlen: int = 243
    num_joints: int = 17
    att_fuse: bool = True
    rootrel: bool = True     # trained on root-relative 3D (else: global x, y; z relative to the clip's first root)
    flip: bool = True        # test-time flip augmentation

    def model_kwargs(self) -> dict:
        return {"dim_in": 3, "dim_out": 3, "dim_feat": self.dim_feat, "dim_rep": self.dim_rep, "depth": self.depth,
                "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio, "maxlen": self.maxlen,
                "num_joints": self.num_joints, "att_fuse": self.att_fuse}

    def build(self):
        """A DSTformer of this configuration, initialised as upstream does (imports PyTorch)."""
        from services.lift3d.motionbert.dstformer import DSTformer

        return DSTformer(**self.model_kwargs())


CONFIGS: dict[str, MotionBERTConfig] = {c.name: c for c in (
    # MotionBERT (full): configs/pose3d/MB_ft_h36m.yaml, the H36M fine-tuned model of the model zoo
    MotionBERTConfig("MB_ft_h36m", dim_feat=512, dim_rep=512, depth=5, num_heads=8, mlp_ratio=2, rootrel=True),
    # the same network trained on global (not root-relative) 3D: configs/pose3d/MB_ft_h36m_global.yaml
    MotionBERTConfig("MB_ft_h36m_global", dim_feat=512, dim_rep=512, depth=5, num_heads=8, mlp_ratio=2, rootrel=False),
    # MotionBERT-Lite: configs/pose3d/MB_ft_h36m_global_lite.yaml, upstream's in-the-wild default
    MotionBERTConfig("MB_ft_h36m_global_lite", dim_feat=256, dim_rep=512, depth=5, num_heads=8, mlp_ratio=4,
                     rootrel=False),
)}


@dataclass(frozen=True)
class Checkpoint:
    """A released checkpoint: where it goes under the models folder and which config built it."""

    path: str           # relative to GAIT_MODELS_DIR; upstream's folder name under checkpoint/pose3d/
    config: str
    description: str
    licence: str = "Apache-2.0 (MotionBERT, Zhu et al.)"

    @property
    def name(self) -> str:
        return Path(self.path).parent.name


# In order of preference when several are present: the lite model is the one upstream's
# in-the-wild inference (docs/inference.md) uses; the full one is the model zoo's
# "3D Pose (H36M-SH, ft)". No SHA-256 is published upstream for either.
CHECKPOINTS: tuple[Checkpoint, ...] = (
    Checkpoint("motionbert/FT_MB_lite_MB_ft_h36m_global_lite/best_epoch.bin", "MB_ft_h36m_global_lite",
               "MotionBERT-Lite fine-tuned on Human3.6M, global 3D (upstream's in-the-wild model)"),
    Checkpoint("motionbert/FT_MB_release_MB_ft_h36m/best_epoch.bin", "MB_ft_h36m",
               "MotionBERT fine-tuned on Human3.6M, root-relative 3D (model zoo: 3D Pose, H36M-SH, ft)"),
)
