"""MotionBERT's in-the-wild 3D pose inference, as upstream's infer_wild.py and lib/data/dataset_wild.py do it.

Steps (upstream's names in brackets):

1. 2D keypoints (frames, 26 | 17, 3) x px, y px, confidence in AlphaPose's Halpe-26 or COCO-17
   order are mapped to Human3.6M-17 (`halpe2h36m`, `coco2h36m`); the confidence is kept as the
   third channel.
2. Normalisation, one of
   - by image size (`--pixel`): (x, y) - (w, h) / 2, divided by min(w, h) / 2, which is how the
     Human3.6M training data were normalised; or
   - by the sequence's bounding box (`crop_scale`, upstream's default): the box of all points with
     non-zero confidence over the whole sequence, its longer side mapped to [-1, 1], values
     clipped to [-1, 1].
3. Clips of `clip_len` (243) consecutive frames; the last clip holds what is left and is run at
   its own length, as upstream's data loader gives it (no padding).
4. Test-time flip (`flip_data`): x negated and left/right joints swapped, the flipped prediction
   flipped back and averaged with the direct one.
5. Root handling (`rootrel`): a root-relative model's root joint is set to 0; a global model's
   first-frame root depth of each clip is set to 0.
6. With `--pixel`, results are scaled back to pixels: times min(w, h) / 2, plus (w, h) / 2 on
   x and y.

Here many clips go through the network in one forward pass (the flipped copies in the same
batch), in half precision on CUDA; nothing loops over frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gait.joints import H36M_FLIP_PERMUTATION, to_h36m17
from services.lift3d.motionbert.configs import MotionBERTConfig
from services.lift3d.motionbert.dstformer import DSTformer

CLIP_LEN = 243
def normalise_by_image(motion: np.ndarray, width: float, height: float) -> np.ndarray:
    """Upstream's --pixel normalisation: x, y centred on the image and divided by min(w, h) / 2."""
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    out = np.array(motion, dtype=np.float32)
    out[..., :2] = (out[..., :2] - np.array([width, height], dtype=np.float32) / 2) / (min(width, height) / 2)
    return out


def pixels_from_normalised(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Inverse of normalise_by_image for 3D output: all channels times min(w, h) / 2, x, y + (w, h) / 2."""
    out = np.asarray(points, dtype=np.float32) * (min(width, height) / 2)
    out[..., :2] += np.array([width, height], dtype=np.float32) / 2
    return out


def crop_scale(motion: np.ndarray) -> np.ndarray:
    """Upstream's crop_scale with scale_range [1, 1] (its in-the-wild default): the bounding box of
    the points with non-zero confidence over the whole sequence, its longer side mapped to [-1, 1]
    around the box centre; every channel clipped to [-1, 1]. All zeros when fewer than 4 points
    are valid or the box is a point."""
    motion = np.asarray(motion, dtype=np.float32)
    valid = motion[motion[..., 2] != 0][:, :2]
    if len(valid) < 4:
        return np.zeros_like(motion)
    low, high = valid.min(axis=0), valid.max(axis=0)
    scale = float(max(high - low))
    if scale == 0:
        return np.zeros_like(motion)
    corner = (low + high - scale) / 2
    out = motion.copy()
    out[..., :2] = ((motion[..., :2] - corner) / scale - 0.5) * 2
    return np.clip(out, -1, 1)


def flip_h36m(x: torch.Tensor) -> torch.Tensor:
    """Horizontal flip of (..., 17, C) Human3.6M-17 data: x negated, left and right swapped."""
    flipped = x[..., torch.as_tensor(H36M_FLIP_PERMUTATION, device=x.device), :].clone()
    flipped[..., 0] = -flipped[..., 0]
    return flipped


def clip_bounds(frames: int, clip_len: int = CLIP_LEN) -> list[tuple[int, int]]:
    """(start, stop) of consecutive clips of `clip_len` frames; the last one holds the rest."""
    if clip_len < 1:
        raise ValueError(f"clip_len must be at least 1, got {clip_len}")
    return [(start, min(start + clip_len, frames)) for start in range(0, frames, clip_len)]


@dataclass
class ClipLifter:
    """Runs a DSTformer over a normalised sequence, clip by clip as upstream, many clips per pass.

    Parameters
    ----------
    model
        The network (its weights already loaded); it is moved to `device` and the dtype in place.
    config
        Which inference settings apply (flip, rootrel).
    clip_len
        Frames per clip (upstream: 243, at most the model's maxlen).
    clips_per_batch
        Full-length clips per forward pass (the flipped copies ride in the same pass).
    device
        Where to run; default CUDA when available.
    half
        Half precision; default on CUDA only.
    """

    model: DSTformer
    config: MotionBERTConfig
    clip_len: int = CLIP_LEN
    clips_per_batch: int | None = None
    device: torch.device | str | None = None
    half: bool | None = None

    def __post_init__(self) -> None:
        self.device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.half = self.device.type == "cuda" if self.half is None else self.half
        if not 1 <= self.clip_len <= self.model.maxlen:
            raise ValueError(f"clip_len must be 1 to {self.model.maxlen} (the model's maxlen), got {self.clip_len}")
        self.clips_per_batch = self.clips_per_batch or (32 if self.device.type == "cuda" else 4)
        self.dtype = torch.float16 if self.half else torch.float32
        self.model = self.model.to(self.device, self.dtype).eval()

    @torch.inference_mode()
    def _forward(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, F, 17, 3) -> (N, F, 17, 3) float32, flip-averaged when the config says so."""
        clips = clips.to(self.device, self.dtype)
        if not self.config.flip:
            return self.model(clips).float()
        both = self.model(torch.cat([clips, flip_h36m(clips)]))           # (2N, F, 17, 3)
        direct, flipped = both[: len(clips)].float(), both[len(clips):].float()
        return (direct + flip_h36m(flipped)) / 2

    def __call__(self, motion: np.ndarray) -> np.ndarray:
        """(frames, 17, 3) normalised x, y, confidence -> (frames, 17, 3) normalised 3D, as upstream's loop."""
        motion = np.asarray(motion, dtype=np.float32)
        if motion.ndim != 3 or motion.shape[1:] != (self.model.num_joints, self.model.dim_in):
            raise ValueError(f"motion must be (frames, {self.model.num_joints}, {self.model.dim_in}), got {motion.shape}")
        if not np.isfinite(motion).all():
            raise ValueError("motion holds NaN or infinite values: fill the gaps first (fill_gaps)")
        frames, length = len(motion), self.clip_len
        out = np.empty_like(motion)
        full = frames // length                                              # clips of `length` frames
        source = torch.from_numpy(motion)
        for first in range(0, full, self.clips_per_batch):                  # batches of full clips
            rows = slice(first * length, min(first + self.clips_per_batch, full) * length)
            clips = source[rows].reshape(-1, length, *motion.shape[1:])      # (N, F, 17, 3)
            out[rows] = self._forward(clips).reshape(-1, *motion.shape[1:]).cpu().numpy()
        if full * length < frames:                                           # the last, shorter clip
            out[full * length:] = self._forward(source[None, full * length:])[0].cpu().numpy()
        if self.config.rootrel:
            out[:, 0, :] = 0
        else:
            out[[start for start, _ in clip_bounds(frames, length)], 0, 2] = 0   # each clip's first root depth
        return out


def infer_wild(lifter: ClipLifter, keypoints2d: np.ndarray, image_size: tuple[float, float] | None = None) -> np.ndarray:
    """Upstream's infer_wild.py on a (frames, 26 | 17, 3) keypoint array of one person.

    With `image_size` (width, height): normalised by image size and the result given back in
    pixels (upstream's --pixel); without: normalised by the sequence's box (upstream's default)
    and the result left in those units. Returns (frames, 17, 3) float32.
    """
    motion = to_h36m17(keypoints2d)
    if image_size is None:
        return lifter(crop_scale(motion))
    width, height = image_size
    return pixels_from_normalised(lifter(normalise_by_image(motion, width, height)), width, height)


def fill_gaps(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames or joints without a position (NaN x or y) get positions interpolated linearly in
    time per joint (held at the ends) and confidence 0, so the network sees a continuous track and
    knows where it is unsure. Returns the filled (frames, joints, 3) array and the (frames,) mask
    of frames where some joint was observed. Raises ValueError when no joint was ever observed."""
    keypoints = np.array(keypoints, dtype=np.float32)
    seen = np.isfinite(keypoints[..., :2]).all(axis=-1)                # (frames, joints)
    if not seen.any():
        raise ValueError("no 2D keypoints in any frame")
    keypoints[..., 2] = np.where(seen, np.nan_to_num(keypoints[..., 2], nan=0.0), 0.0)
    frames = np.arange(len(keypoints))
    # a joint never seen anywhere follows the centre of the joints seen in each frame
    centre = np.where(seen[..., None], keypoints[..., :2], 0).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)[:, None]
    for joint in np.flatnonzero(~seen.all(axis=0)):                    # a loop over joints, not frames
        known = seen[:, joint]
        source, values = (known, keypoints[:, joint, :2]) if known.any() else (seen.any(axis=1), centre)
        for channel in (0, 1):
            keypoints[:, joint, channel] = np.interp(frames, frames[source], values[source, channel])
    return keypoints, seen.any(axis=1)
