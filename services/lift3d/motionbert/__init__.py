"""MotionBERT (Zhu et al. 2023, ICCV; Apache-2.0 upstream) as a lift3d backend, written for this project.

- dstformer.py: the DSTformer network, checkpoint-compatible with upstream's.
- configs.py: the released configurations and checkpoint files (no PyTorch needed).
- checkpoints.py: strict loading of upstream's checkpoint files.
- inference.py: upstream's in-the-wild inference (joint maps, normalisation, clips, flip), batched.
- backend.py: the lift3d backend (root-relative metres, feet, metadata).
"""
