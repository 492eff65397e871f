"""SSD anchors of the BlazePose person detector (MediaPipe's pose_detection graph options)."""
from __future__ import annotations

import math

import numpy as np

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated-scale anchor


def ssd_anchor_centres(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES, offset: float = 0.5) -> np.ndarray:
    """(N, 2) anchor centres x, y normalised to [0, 1]; N = 2254 for the defaults.

    With fixed-size anchors only the centres matter. Consecutive layers with the same stride share
    one feature map, whose every cell then holds the anchors of all of them.
    """
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        same = 0
        while layer < len(strides) and strides[layer] == stride:
            same += 1
            layer += 1
        cells = math.ceil(input_size / stride)
        ys, xs = np.meshgrid((np.arange(cells) + offset) / cells, (np.arange(cells) + offset) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)  # row-major: y outer, x inner
        centres.append(np.repeat(grid, same * ANCHORS_PER_LAYER, axis=0))
    return np.concatenate(centres).astype(np.float32)
