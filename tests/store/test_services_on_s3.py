"""The same services with the S3 backend (GAIT_STORE=s3), as on the cluster with MinIO."""
from __future__ import annotations

import grpc
import numpy as np

from gait.artifacts import Bundle
from gait.ingest import ingest_video
from gait.store import open_store
from gait.v1 import stages_pb2, stages_pb2_grpc
from gait.video import H264Writer
from gaitcli.launcher import LocalServices


def test_rotate_reads_and_writes_through_s3(s3_endpoint, monkeypatch, tmp_path):
    for name, value in {"GAIT_STORE": "s3", "GAIT_S3_ENDPOINT": s3_endpoint, "GAIT_S3_BUCKET": "gait-services",
                        "GAIT_S3_ACCESS_KEY": "test", "GAIT_S3_SECRET_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    clip = tmp_path / "clip.mp4"
    with H264Writer(clip, 160, 120, 25.0) as writer:
        for i in range(10):
            writer.write(np.full((120, 160, 3), 20 * i, np.uint8))
    store = open_store()
    video = ingest_video(store, clip)
    with LocalServices(("rotate",)) as services, grpc.insecure_channel(services.addresses["rotate"]) as channel:
        response = stages_pb2_grpc.RotateServiceStub(channel).Rotate(
            stages_pb2.RotateRequest(video_key=video.key), timeout=60)
    assert response.frames == 10 and (response.width, response.height) == (160, 120)
    bundle = Bundle.open(store, response.outcome.bundle_key, expected_stage="rotate")
    assert store.location.startswith("s3://") and bundle.fetch("upright.mp4", tmp_path / "out").stat().st_size > 0
