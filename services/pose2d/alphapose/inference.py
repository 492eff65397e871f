"""AlphaPose's top-down single-person inference, as upstream's demo does it (scripts/demo_inference.py
with alphapose/utils/presets/simple_transform.py, utils/bbox.py, utils/transforms.py, utils/writer.py
and utils/pPose_nms.py), batched.

Steps (upstream's names in brackets):

1. Each person box (x1, y1, x2, y2) is widened or heightened to the network's aspect ratio
   (192 / 256) around its centre and enlarged 1.25 times (`_box_to_center_scale`); that is the
   "cropped box" (`_center_scale_to_box`).
2. The cropped box is warped to the 256 x 192 input with the affine transform of
   `get_affine_transform` (three point pairs through cv2.getAffineTransform, cv2.warpAffine with
   bilinear interpolation, black outside the image) from the RGB frame; pixel values / 255 (only
   when the crop has a value above 1, as `im_to_torch`), then the means (0.406, 0.457, 0.480)
   subtracted from R, G, B. No division by a standard deviation.
3. FastPose gives one heatmap per joint (64 x 48). Flip test (`--flip`): the horizontally
   flipped crops go through the same pass; their heatmaps are flipped back, left and right joints
   swapped (the dataset's joint pairs) and shifted one column right (`flip_heatmap(...,
   shift=True)`), then averaged with the direct ones.
4. Decoding (`heatmap_to_coord_simple`, the MSELoss configs): the arg-max of each heatmap (0, 0
   when the maximum is not positive), moved a quarter pixel towards the higher neighbour in x and
   in y when the peak is at least two cells inside the heatmap; the score is the heatmap's
   maximum; coordinates mapped back to the image with the inverse affine transform of the
   cropped box (`transform_preds`).
5. Pose NMS (`pose_nms`) with one box per frame keeps the pose as it is, with zero scores raised
   to 1e-5, and drops it when no joint scores 0.3 or more; the result's score is
   mean(joint scores) + box score + 1.25 x max(joint scores) (writer.py's proposal_score).

Here the crops of many boxes (of many frames) go through the network in one forward pass (the
flipped copies in the same batch), in half precision on CUDA; decoding is vectorised over all
crops and joints. Only the crop itself is a per-box OpenCV call.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from services.pose2d.alphapose.configs import FastPoseConfig
from services.pose2d.alphapose.fastpose import FastPose

SCALE_MULT = 1.25                                   # _box_to_center_scale's enlargement
PIXEL_MEANS = (0.406, 0.457, 0.480)                 # subtracted from R, G, B in [0, 1]
NMS_SCORE_THRESHOLD = 0.3                           # pPose_nms.scoreThreds
ZERO_SCORE = 1e-5                                   # pose_nms_body raises zero scores to this


def box_to_center_scale(boxes: np.ndarray, aspect_ratio: float, scale_mult: float = SCALE_MULT
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) x1, y1, x2, y2 -> centres (N, 2) and scales (N, 2) w, h: the box widened or heightened
    to `aspect_ratio` (w / h) around its centre, times `scale_mult`; float32 as upstream."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    x, y = boxes[:, 0], boxes[:, 1]
    w, h = boxes[:, 2] - x, boxes[:, 3] - y
    centre = np.stack([x + w * np.float32(0.5), y + h * np.float32(0.5)], axis=1)
    ratio = np.float32(aspect_ratio)
    wide, tall = w > ratio * h, w < ratio * h
    h = np.where(wide, w / ratio, h)
    w = np.where(tall, h * ratio, w)
    scale = np.stack([w, h], axis=1).astype(np.float32)
    return centre, np.where(centre[:, :1] != -1, scale * np.float32(scale_mult), scale).astype(np.float32)


def center_scale_to_box(centre: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Centres and scales (N, 2) -> (N, 4) x1, y1, x2, y2 (`_center_scale_to_box`)."""
    low = centre - scale * np.float32(0.5)
    return np.concatenate([low, low + scale], axis=1).astype(np.float32)


def affine_transform(centre: np.ndarray, scale: np.ndarray, output_size: tuple[int, int], inverse: bool = False
                     ) -> np.ndarray:
    """The 2 x 3 matrix mapping the box of `centre`, `scale` (width sets the scale) onto an output of
    `output_size` (width, height), or back; three float32 point pairs as get_affine_transform (rot 0)."""
    src_w = np.float32(scale[0])
    dst_w, dst_h = output_size
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0] = centre
    src[1] = np.asarray(centre, np.float32) + np.array([0, src_w * -0.5], np.float32)
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + np.array([0, dst_w * -0.5], np.float32)
    for points in (src, dst):                          # the third point: perpendicular to the first two
        direction = points[0] - points[1]
        points[2] = points[1] + np.array([-direction[1], direction[0]], dtype=np.float32)
    return cv2.getAffineTransform(dst, src) if inverse else cv2.getAffineTransform(src, dst)


def crop_boxes(images: list[np.ndarray], image_index: np.ndarray, boxes: np.ndarray, input_size: tuple[int, int],
               rgb: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Crops of each box (N, 4) x1, y1, x2, y2 of images[image_index[n]] (uint8, BGR unless `rgb`):
    -> (N, H, W, 3) uint8 RGB crops of `input_size` (H, W) and the cropped boxes (N, 4)."""
    height, width = input_size
    centre, scale = box_to_center_scale(boxes, width / height)
    crops = np.empty((len(centre), height, width, 3), dtype=np.uint8)
    for n, (c, s) in enumerate(zip(centre, scale)):
        crops[n] = cv2.warpAffine(images[int(image_index[n])], affine_transform(c, s, (width, height)),
                                  (int(width), int(height)), flags=cv2.INTER_LINEAR)
    if not rgb:
        crops = crops[..., ::-1]
    return crops, center_scale_to_box(centre, scale)


def normalise_crops(crops: np.ndarray | torch.Tensor, device: torch.device | str = "cpu",
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(N, H, W, 3) uint8 RGB -> (N, 3, H, W) network input: / 255 (when a crop has a value above 1,
    as upstream's im_to_torch), minus PIXEL_MEANS per channel."""
    x = torch.as_tensor(np.ascontiguousarray(crops)).to(device).permute(0, 3, 1, 2).float()
    above_one = x.flatten(1).amax(dim=1) > 1
    x = torch.where(above_one[:, None, None, None], x / 255, x)
    return (x - torch.tensor(PIXEL_MEANS, device=x.device)[None, :, None, None]).to(dtype)


def flip_back(heatmaps: torch.Tensor, joint_pairs: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """Heatmaps of horizontally flipped crops -> heatmaps of the crops: flipped in width, left and
    right joints swapped, shifted one column right (the first column kept), as flip_heatmap(shift=True)."""
    order = np.arange(heatmaps.shape[1])
    for a, b in joint_pairs:
        order[a], order[b] = b, a
    out = heatmaps.flip(dims=(3,))[:, torch.as_tensor(order, device=heatmaps.device)]
    return torch.cat([out[..., :1], out[..., :-1]], dim=3)


def decode_heatmaps(heatmaps: np.ndarray, cropped_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """heatmap_to_coord_simple for a batch: (N, J, h, w) float32 heatmaps and the (N, 4) cropped boxes
    -> (N, J, 2) float32 image coordinates and (N, J) float32 scores (the heatmaps' maxima)."""
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    n, joints, hm_h, hm_w = heatmaps.shape
    flat = heatmaps.reshape(n, joints, -1)
    index = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, index[..., None], axis=2)[..., 0]
    coords = np.stack([index % hm_w, index // hm_w], axis=-1).astype(np.float32)
    coords *= (maxvals > 0)[..., None]
    px, py = coords[..., 0].astype(np.int64), coords[..., 1].astype(np.int64)
    inside = (px > 1) & (px < hm_w - 1) & (py > 1) & (py < hm_h - 1)
    cx, cy = np.clip(px, 1, hm_w - 2), np.clip(py, 1, hm_h - 2)
    nn_, jj = np.meshgrid(np.arange(n), np.arange(joints), indexing="ij")
    dx = heatmaps[nn_, jj, cy, cx + 1] - heatmaps[nn_, jj, cy, cx - 1]
    dy = heatmaps[nn_, jj, cy + 1, cx] - heatmaps[nn_, jj, cy - 1, cx]
    coords += np.where(inside[..., None], np.sign(np.stack([dx, dy], axis=-1)) * 0.25, 0).astype(np.float32)

    boxes = np.asarray(cropped_boxes, dtype=np.float64)              # upstream: bbox.tolist(), Python floats
    preds = np.empty_like(coords)
    for i, (xmin, ymin, xmax, ymax) in enumerate(boxes):
        w, h = xmax - xmin, ymax - ymin
        back = affine_transform(np.array([xmin + w * 0.5, ymin + h * 0.5]), np.array([w, h]), (hm_w, hm_h),
                                inverse=True)
        points = np.concatenate([coords[i].astype(np.float64), np.ones((joints, 1))], axis=1)
        preds[i] = points @ back.T
    return preds, maxvals


def nms_scores(scores: np.ndarray, box_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pose_nms with one box per image and writer.py's score: (N, J) joint scores and (N,) box scores
    -> joint scores (zeros raised to 1e-5), the poses kept (some joint scores >= 0.3), and each
    pose's score mean + box score + 1.25 x max."""
    scores = np.where(scores == 0, np.float32(ZERO_SCORE), scores).astype(np.float32)
    kept = scores.max(axis=1) >= NMS_SCORE_THRESHOLD
    return scores, kept, (scores.mean(axis=1) + box_scores + 1.25 * scores.max(axis=1)).astype(np.float32)


@dataclass
class TopDownEstimator:
    """FastPose over person boxes, many crops per forward pass.

    `batch_size` counts crops (the flipped copies come on top, as upstream halves its batch for
    them); half precision on CUDA unless `half` is False.
    """

    model: FastPose
    config: FastPoseConfig
    device: torch.device | str | None = None
    half: bool | None = None
    flip: bool = True
    batch_size: int | None = None

    def __post_init__(self) -> None:
        self.device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.half = self.device.type == "cuda" if self.half is None else self.half
        self.batch_size = self.batch_size or (64 if self.device.type == "cuda" else 8)
        self.dtype = torch.float16 if self.half else torch.float32
        self.model = self.model.to(self.device, self.dtype).eval()

    @torch.inference_mode()
    def heatmaps(self, crops: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB crops -> (N, J, h, w) float32 heatmaps (flip-averaged when `flip`)."""
        out = []
        for start in range(0, len(crops), self.batch_size):
            x = normalise_crops(crops[start:start + self.batch_size], self.device, self.dtype)
            if self.flip:
                x = torch.cat([x, x.flip(dims=(3,))])
            y = self.model(x)                                           # (batch [x 2], J, h, w)
            if self.flip:
                half = len(y) // 2
                y = (y[:half] + flip_back(y[half:], self.config.joint_pairs)) / 2
            out.append(y.float().cpu().numpy())
        heatmap_shape = (self.config.num_joints, *self.config.heatmap_size)
        return np.concatenate(out) if out else np.zeros((0, *heatmap_shape), np.float32)

    def estimate(self, images: list[np.ndarray], image_index: np.ndarray, boxes: np.ndarray, rgb: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poses in the (N, 4) x1, y1, x2, y2 boxes of images[image_index]: (N, J, 2) image
        coordinates, (N, J) scores and the (N, 4) cropped boxes."""
        crops, cropped = crop_boxes(images, image_index, boxes, self.config.image_size, rgb=rgb)
        coords, scores = decode_heatmaps(self.heatmaps(crops), cropped)
        return coords, scores, cropped
