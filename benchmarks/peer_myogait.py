"""The peer's side of benchmarks/peer.py: myogait's documented end-to-end call,
`myogait.run_pipeline(video, model="mediapipe")` (extract, Butterworth filter, angles, Zeni
events, cycles, analysis), then `save_json` of the result into OUT as `myogait run` does.
Runs in .venv-peer (myogait 0.9.2, mediapipe 0.10.21), in a temporary working folder. Prints one
JSON line.

The pose model: myogait's mediapipe extractor first tries mediapipe's Tasks API with
`~/.myogait/models/pose_landmarker_heavy.task`, downloading it from storage.googleapis.com when
missing; if that fails (offline) it falls back to the legacy `solutions.pose` with
model_complexity=1, the "full" BlazePose model that ships inside the mediapipe wheel (the loop
benchmarks/mediapipe_reference.py compares our pose2d stage with). Here the download is made to fail
at once, so that every machine, online or not, measures that same fallback and fetches nothing.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import myogait
import myogait.models.mediapipe as myogait_mediapipe


def no_download(model_path: str | None = None) -> str:
    raise RuntimeError("no download in the benchmark: legacy solutions.pose")


def main(video: str, out: str) -> None:
    myogait_mediapipe._ensure_model = no_download
    started = time.perf_counter()
    result = myogait.run_pipeline(video, model="mediapipe", show_progress=False)
    myogait.save_json(result["data"], Path(out) / "result.myogait.json")
    frames = result["data"]["frames"]
    print(json.dumps({"seconds": time.perf_counter() - started, "frames": len(frames),
                      "detected": sum(1 for frame in frames if frame.get("confidence", 0) > 0.3),
                      "cycles": len(result["cycles"].get("cycles", [])) if isinstance(result["cycles"], dict) else None,
                      "warnings": len(result["quality"].get("warnings", []))}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
