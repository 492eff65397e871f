"""The video path on the whole demo clip against our frame-by-frame annotation: the services
chained over gRPC (rotate, pose2d, lift3d), then the analysis's events scored as `gait validate`
does (docs/validation.md). A regression in the video path's events fails here."""
from __future__ import annotations

import pytest

from gait.analysis.validation.corpus import demo_annotation
from gait.analysis.validation.runner import demo_case_from, score_case
from gait.artifacts import Bundle
from gait.ingest import ingest_video
from gait.v1 import stages_pb2


@pytest.fixture(scope="module")
def demo_lift(stubs, store, demo_clip) -> Bundle:
    video = ingest_video(store, demo_clip)
    rotated = stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=video.key), timeout=300)
    pose = stubs.pose2d.EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=rotated.outcome.bundle_key), timeout=600)
    lifted = stubs.lift3d.Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=pose.outcome.bundle_key), timeout=300)
    return Bundle.open(store, lifted.outcome.bundle_key, expected_stage="lift3d")


def test_the_annotation_is_of_this_clip(demo_clip):
    from gait.artifacts import sha256_file

    assert demo_annotation()["clip"]["sha256"] == sha256_file(demo_clip)


def test_demo_clip_events_against_the_annotation(demo_lift):
    """Measured 2026-12-04 (rotate's upright video x264 ultrafast, deblocked, CRF 23): 7 of 8 heel
    strikes (31.3 ms), 8 of 8 toe offs (30.3 ms), no extra (the left foot's toe off at the image's
    edge, frame 197, is left out: the right foot had left the ground 0.06 s before, `grounded`).
    Limits: the issue's for the video path where they are met (>= 7 of 8 each, at most one extra
    each, toe offs within 35 ms); heel strikes (the issue's 20 ms, not met yet) a few ms above
    today's figure. The errors are not set from one encoding's figure: five encodings of this clip
    that look the same gave heel strikes of 29.8-31.8 ms and toe offs of 14.0-30.3 ms
    (docs/validation.md, "Rotate's encoding")."""
    case = demo_case_from(*(demo_lift.read_npy(name) for name in ("X3D.npy", "feet3d.npy", "confidence3d.npy")))
    (row,) = score_case(case, ("auto",))
    assert row["hs_matched"] >= 7 and row["to_matched"] >= 7, row
    assert row["hs_extra"] <= 1 and row["to_extra"] <= 1, row
    # wider than the marker limits: the keypoints differ a little between CPUs (TFLite, OpenCV)
    assert row["to_mae_ms"] <= 35.0 and row["hs_mae_ms"] <= 35.0, row
    assert abs(row["cadence_error_steps_per_min"]) <= 4.0, row
    assert row["reference_in_bouts_pct"] >= 90.0, row
