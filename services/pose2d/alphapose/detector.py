"""Person detection with YOLOv3-SPP as AlphaPose's demo does it (detector/yolo_api.py with
detector/yolo_cfg.py, yolo/preprocess.py, yolo/util.py and detector/nms), batched over frames.

Steps (upstream's names in brackets):

1. Letterbox (`letterbox_image`, `prep_frame`): the BGR frame resized with bicubic interpolation
   (cv2.INTER_CUBIC) by min(S / width, S / height), the new size truncated to whole pixels,
   centred on an S x S canvas of value 128 (offsets rounded down); BGR to RGB, / 255. S = 608
   (yolo_cfg.INP_DIM).
2. The network (yolo.py) and its outputs decoded (`predict_transform`): per cell and anchor,
   centre = (sigmoid(tx, ty) + cell) x stride, size = exp(tw, th) x anchor, objectness and class
   scores through a sigmoid (each class on its own, not a softmax). Rows are ordered by output
   (stride 32, 16, 8), then cell (row-major), then anchor.
3. Filtering (`write_results`): rows with objectness > 0.1 (yolo_cfg.CONFIDENCE; 0.3 when
   upstream tracks) whose most likely class is person (class 0); corners x1, y1, x2, y2 = centre
   -+ size / 2; their score for the pose stage is the person class score, their NMS score the
   objectness.
4. NMS (detector/nms, nms_cpu.cpp): by objectness, greedy, dropping a box whose IoU with a kept one
   is >= 0.6 (yolo_cfg.NMS_THRES), areas and intersections counted in whole pixels (+1, the
   Faster R-CNN convention). `dynamic_write_results`: when more than 100 boxes survive, NMS is
   redone at 0.55. Upstream counts the boxes of its whole detection batch (--detbatch frames, 5 by
   default, the last batch padded with copies of its first frame); here each frame counts its own,
   so results do not depend on how frames are batched.
5. Back to the frame (`images_detection`): minus the letterbox offsets (S - scale x size) / 2, /
   scale, clipped to [0, width] and [0, height] (float32 as upstream).

Here many frames go through the network in one forward pass, in half precision on CUDA (decoding
in float32); decoding, filtering and NMS are tensor operations over the whole batch (NMS's greedy
order resolved by a fixed-point iteration on the IoU matrix, exact). Only the letterbox resize is a
per-frame OpenCV call.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from services.pose2d.alphapose.yolo import ANCHOR_MASKS, ANCHORS, YOLOv3SPP

INPUT_SIZE = 608                 # yolo_cfg.INP_DIM
CONFIDENCE = 0.1                 # yolo_cfg.CONFIDENCE (objectness threshold, strict >)
NMS_THRESHOLD = 0.6              # yolo_cfg.NMS_THRES (IoU >= this is suppressed)
MANY_BOXES = 100                 # dynamic_write_results: more than this -> NMS again at
NMS_STEP = 0.05                  # ... the threshold minus this
PAD_VALUE = 128                  # letterbox canvas
PERSON = 0                       # COCO class index
DENSE_NMS_LIMIT = 4096           # candidates per frame up to which NMS uses the full IoU matrix


def letterbox_geometry(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """(new width, new height, left, top) of a width x height image letterboxed into size x size."""
    ratio = min(size / width, size / height)
    new_w, new_h = int(width * ratio), int(height * ratio)
    return new_w, new_h, (size - new_w) // 2, (size - new_h) // 2


def letterbox(image: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: resized (bicubic) keeping the aspect ratio,
    centred on a canvas of PAD_VALUE; channels unchanged."""
    height, width = image.shape[:2]
    new_w, new_h, left, top = letterbox_geometry(width, height, size)
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top:top + new_h, left:left + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_CUBIC)
    return canvas


def network_input(canvases: np.ndarray, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
                  ) -> torch.Tensor:
    """(N, S, S, 3) uint8 BGR letterboxed frames -> (N, 3, S, S) RGB in [0, 1]."""
    x = torch.as_tensor(np.ascontiguousarray(canvases)).to(device)
    return (x.flip(dims=(3,)).permute(0, 3, 1, 2).float() / 255.0).to(dtype)


def decode(outputs: tuple[torch.Tensor, ...], input_size: int, anchors=ANCHORS, masks=ANCHOR_MASKS) -> torch.Tensor:
    """The network's raw outputs (batch, A x (5 + C), G, G), strides 32, 16, 8 -> (batch, rows, 5 + C)
    float32: centre x, y and width, height in input pixels, objectness, class scores (sigmoids)."""
    rows = []
    for out, mask in zip(outputs, masks):
        batch, _, grid, _ = out.shape
        stride = input_size // grid
        a = len(mask)
        p = out.float().view(batch, a, -1, grid, grid).permute(0, 3, 4, 1, 2)      # (batch, gy, gx, A, 5 + C)
        cells = torch.arange(grid, device=out.device, dtype=torch.float32)
        offset = torch.stack(torch.meshgrid(cells, cells, indexing="xy"), dim=-1)   # (gy, gx, 2): x, y
        size = torch.tensor([anchors[i] for i in mask], device=out.device, dtype=torch.float32) / stride
        xy = (torch.sigmoid(p[..., :2]) + offset[:, :, None, :]) * stride
        wh = torch.exp(p[..., 2:4]) * size * stride
        rows.append(torch.cat([xy, wh, torch.sigmoid(p[..., 4:])], dim=-1).reshape(batch, grid * grid * a, -1))
    return torch.cat(rows, dim=1)


def pixel_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of (N, 4) and (M, 4) x1, y1, x2, y2 boxes -> (N, M), counting whole pixels (+1) as
    upstream's NMS (nms_cpu.cpp, bbox_iou)."""
    lo = torch.maximum(a[:, None, :2], b[None, :, :2])
    hi = torch.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = (hi - lo + 1).clamp(min=0).prod(dim=-1)
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Greedy NMS as nms_cpu.cpp: visit boxes by descending score, drop those whose pixel IoU with
    an already kept box is >= threshold. -> indices of the kept boxes, by descending score.

    The greedy result is the one fixed point of "kept = no kept higher-scored box overlaps it", so
    it is reached by iterating that rule from "all kept" (each pass settles at least the next box
    in order; passes are few in practice), each pass one matrix operation. Above DENSE_NMS_LIMIT
    boxes the IoU matrix would be large: the greedy loop instead, one row of IoUs per kept box."""
    order = torch.argsort(scores, descending=True, stable=True)
    boxes = boxes[order]
    n = len(boxes)
    if n <= DENSE_NMS_LIMIT:
        overlaps = torch.triu(pixel_iou(boxes, boxes) >= threshold, diagonal=1)   # [i, j]: i before j suppresses j
        keep = torch.ones(n, dtype=torch.bool, device=boxes.device)
        for _ in range(n):
            new = ~(overlaps & keep[:, None]).any(dim=0)
            if torch.equal(new, keep):
                break
            keep = new
        return order[keep]
    suppressed = torch.zeros(n, dtype=torch.bool, device=boxes.device)
    kept = []
    for i in range(n):
        if suppressed[i]:
            continue
        kept.append(i)
        suppressed[i + 1:] |= pixel_iou(boxes[i:i + 1], boxes[i + 1:])[0] >= threshold
    return order[torch.tensor(kept, dtype=torch.long, device=boxes.device)]


def person_boxes(prediction: torch.Tensor, confidence: float = CONFIDENCE, nms_threshold: float = NMS_THRESHOLD
                 ) -> list[torch.Tensor]:
    """Decoded predictions (batch, rows, 5 + C) -> per frame (n, 6) x1, y1, x2, y2 (input pixels),
    objectness, person score: the person boxes kept by NMS, by descending objectness."""
    objectness = prediction[..., 4]
    best, label = prediction[..., 5:].max(dim=-1)
    candidate = (objectness > confidence) & (label == PERSON) & (best > 0)
    centre, size = prediction[..., :2], prediction[..., 2:4]
    table = torch.cat([centre - size / 2, centre + size / 2, objectness[..., None], best[..., None]], dim=-1)
    found = []
    for frame in range(len(prediction)):                 # per frame: a few candidates each after filtering
        rows = table[frame][candidate[frame]]
        kept = nms(rows[:, :4], rows[:, 4], nms_threshold)
        if len(kept) > MANY_BOXES:
            kept = nms(rows[:, :4], rows[:, 4], nms_threshold - NMS_STEP)
        found.append(rows[kept])
    return found


def to_frame(boxes: torch.Tensor, width: int, height: int, size: int) -> torch.Tensor:
    """(n, 4+) boxes in letterboxed input pixels -> frame pixels, clipped to [0, width] x [0, height]
    (float32, as images_detection)."""
    dims = torch.tensor([width, height], dtype=torch.float32, device=boxes.device)
    scale = torch.min(size / dims)
    pad = (size - scale * dims) / 2
    out = boxes.float().clone()
    out[:, 0:4] = (out[:, 0:4] - pad.repeat(2)) / scale
    out[:, 0:4:2] = out[:, 0:4:2].clamp(0.0, float(width))
    out[:, 1:4:2] = out[:, 1:4:2].clamp(0.0, float(height))
    return out


@dataclass
class YOLODetector:
    """Person boxes from YOLOv3-SPP in many frames per forward pass.

    `batch_size` counts frames (default 16 on CUDA, 2 on CPU); half precision on CUDA unless
    `half` is False; `input_size` is S (a multiple of 32; upstream's 608).
    """

    model: YOLOv3SPP
    input_size: int = INPUT_SIZE
    confidence: float = CONFIDENCE
    nms_threshold: float = NMS_THRESHOLD
    device: torch.device | str | None = None
    half: bool | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.input_size % 32:
            raise ValueError(f"YOLOv3-SPP's input size must be a multiple of 32, got {self.input_size}")
        self.device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.half = self.device.type == "cuda" if self.half is None else self.half
        self.batch_size = self.batch_size or (16 if self.device.type == "cuda" else 2)
        self.dtype = torch.float16 if self.half else torch.float32
        self.model = self.model.to(self.device, self.dtype).eval()

    @torch.inference_mode()
    def predictions(self, frames: list[np.ndarray]) -> torch.Tensor:
        """BGR frames -> the decoded predictions (frames, rows, 5 + C), float32 on the device."""
        canvases = np.stack([letterbox(f, self.input_size) for f in frames])
        return decode(self.model(network_input(canvases, self.device, self.dtype)), self.input_size)

    @torch.inference_mode()
    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """BGR frames (any sizes) -> per frame (n, 6) float32 x1, y1, x2, y2 (frame pixels),
        objectness, person score (the score upstream gives the pose stage), by descending objectness."""
        found = []
        for start in range(0, len(frames), self.batch_size):
            chunk = frames[start:start + self.batch_size]
            boxes = person_boxes(self.predictions(chunk), self.confidence, self.nms_threshold)
            for frame, rows in zip(chunk, boxes):
                found.append(to_frame(rows, frame.shape[1], frame.shape[0], self.input_size).cpu().numpy())
        return found
