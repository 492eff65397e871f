"""SSD anchors of the BlazePose person detector (MediaPipe's pose_detection graph options).

The graph's anchor options: 5 layers, strides 8, 16, 32, 32, 32, input 224x224, offsets 0.5,
aspect ratio 1.0 plus the interpolated-scale anchor, fixed anchor size. With fixed-size anchors
(width = height = 1) the scales drop out and only the centres matter.
"""
from __future__ import annotations

import math

import numpy as np

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ASPECT_RATIOS = (1.0,)
ANCHORS_PER_LAYER = len(ASPECT_RATIOS) + 1  # plus the interpolated-scale anchor (ratio 1.0)


def ssd_anchor_centres(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES,
                       offset: float = 0.5, per_layer: int = ANCHORS_PER_LAYER) -> np.ndarray:
    """(N, 2) float32 anchor centres x, y normalised to [0, 1]; N = 2254 for the defaults.
    `per_layer`: anchors per cell and layer (1 where the graph has no interpolated-scale anchor).

    Consecutive layers with the same stride share one feature map, whose every cell then holds
    the anchors of all of them (row-major cells: y outer, x inner).
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
        axis = (np.arange(cells) + offset) / cells
        ys, xs = np.meshgrid(axis, axis, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, same * per_layer, axis=0))
    return np.concatenate(centres).astype(np.float32)
