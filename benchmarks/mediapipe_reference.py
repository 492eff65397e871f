"""mediapipe's own per-frame BlazePose loop (`mp.solutions.pose`, model_complexity=1 = full),
the reference our pose2d stage is compared with. Runs in its own venv (mediapipe 0.10.21 needs
numpy<2 and protobuf<5): see benchmarks/run.py. Prints one JSON line."""
from __future__ import annotations

import json
import sys
import time

import cv2
import mediapipe as mp


def main(video: str) -> None:
    capture = cv2.VideoCapture(video)
    frames = 0
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=True) as pose:
        started = time.perf_counter()
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            frames += 1
        seconds = time.perf_counter() - started
    print(json.dumps({"frames": frames, "seconds": seconds, "frames_per_second": frames / seconds}))


if __name__ == "__main__":
    main(sys.argv[1])
