"""gait.deidentify: head boxes from keypoints, temporal padding, and a blur that leaves no face."""
from __future__ import annotations

import numpy as np
import pytest

from gait.deidentify import (
    HEAD_PER_SHOULDERS,
    HEAD_PER_TORSO,
    DeidentifiedFrames,
    blur_boxes,
    enlarged,
    head_box,
    head_from_torso,
    padded_boxes,
)
from gait.joints import COCO_17, HALPE_26


def _person(layout: tuple[str, ...], **points: tuple[float, float]) -> np.ndarray:
    """Keypoints (joints, 3) with the named joints at the given x, y (score 0.9), the rest unseen."""
    keypoints = np.full((len(layout), 3), np.nan, np.float32)
    keypoints[:, 2] = 0.0
    for name, (x, y) in points.items():
        keypoints[layout.index(name)] = (x, y, 0.9)
    return keypoints


BODY = {"left_shoulder": (120, 200), "right_shoulder": (80, 200), "left_hip": (115, 320), "right_hip": (85, 320)}


def _inside(box: np.ndarray, x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


@pytest.mark.parametrize("layout", [HALPE_26, COCO_17])
def test_a_frontal_face_is_boxed_around_its_keypoints_sized_from_the_torso(layout):
    face = {"nose": (100, 150), "left_eye": (106, 143), "right_eye": (94, 143), "left_ear": (114, 147),
            "right_ear": (86, 147)}
    box = head_box(_person(layout, **face, **BODY))
    torso = 120.0  # neck (100, 200) to pelvis (100, 320)
    np.testing.assert_allclose(box[2] - box[0], HEAD_PER_TORSO * torso, rtol=1e-5)
    np.testing.assert_allclose(box[3] - box[1], HEAD_PER_TORSO * torso, rtol=1e-5)
    np.testing.assert_allclose([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], [100, 146], atol=1e-4)
    for x, y in face.values():
        assert _inside(box, x, y)
    assert box[3] < 200, "the box stops above the shoulders"


def test_a_side_view_face_gets_the_same_size_from_the_torso():
    """Walking past the camera the eye and ear are close together: the size comes from the body."""
    side = {"nose": (108, 150), "right_eye": (103, 145), "right_ear": (92, 148)}
    box = head_box(_person(HALPE_26, **side, **BODY))
    assert box[2] - box[0] == pytest.approx(HEAD_PER_TORSO * 120, rel=1e-5)
    for x, y in side.values():
        assert _inside(box, x, y)


def test_without_face_keypoints_the_head_stands_on_the_neck_along_the_torso():
    upright = head_box(_person(HALPE_26, **BODY))
    side = HEAD_PER_TORSO * 120
    np.testing.assert_allclose(upright, [100 - side / 2, 200 - side, 100 + side / 2, 200], atol=1e-4)
    # a person bent forward (torso tilted 45 degrees to the right): the head moves out along the torso
    leaning = head_from_torso(np.array([200.0, 200.0]), np.array([100.0, 300.0]))
    centre = (leaning[:2] + leaning[2:]) / 2
    assert centre[0] > 200 and centre[1] < 200
    np.testing.assert_allclose(np.hypot(*(centre - [200, 200])), HEAD_PER_TORSO * np.hypot(100, 100) / 2, rtol=1e-5)


def test_shoulders_alone_give_a_box_of_their_width_above_the_neck():
    shoulders = {k: v for k, v in BODY.items() if "shoulder" in k}
    box = head_box(_person(COCO_17, **shoulders))
    width = HEAD_PER_SHOULDERS * 40
    np.testing.assert_allclose(box, [100 - width / 2, 200 - width, 100 + width / 2, 200], atol=1e-4)


def test_no_head_without_a_face_or_both_shoulders():
    assert head_box(_person(HALPE_26)) is None
    assert head_box(_person(HALPE_26, left_shoulder=(120, 200), left_hip=(115, 320))) is None
    assert head_box(_person(HALPE_26, nose=(100, 150))) is None, "one point, no scale"
    unsure = _person(HALPE_26, nose=(100, 150), **BODY)
    unsure[HALPE_26.index("nose"), 2] = 0.05
    assert _inside(head_box(unsure), 100, 180), "a doubtful nose is ignored: the box sits on the neck"


def test_padding_blurs_a_lost_head_where_it_was_in_the_frames_around():
    walker = [np.array([[10 + 5 * i, 10, 30 + 5 * i, 30]], np.float32) for i in range(7)]
    found = [walker[0], walker[1], np.zeros((0, 4), np.float32), walker[3], walker[4], walker[5], walker[6]]
    np.testing.assert_array_equal(padded_boxes(found, 1, 1), walker[1]), "found: its own box only"
    lost = padded_boxes(found, 2, 1)
    np.testing.assert_array_equal(lost, np.concatenate([walker[1], walker[3]]))
    assert len(padded_boxes(found, 2, 0)) == 0
    # a second head in another frame, far from this frame's, is added; the walker's own neighbours are not
    other = np.array([[200, 200, 220, 220]], np.float32)
    found[4] = np.concatenate([walker[4], other])
    np.testing.assert_array_equal(padded_boxes(found, 5, 1), np.concatenate([walker[5], other]))


def test_frames_come_out_in_order_blurred_with_the_padding_applied():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (60, 80, 3), dtype=np.uint8) for _ in range(6)]
    originals = [f.copy() for f in frames]
    out: list[tuple[int, np.ndarray, str]] = []
    stream = DeidentifiedFrames(2, lambda i, frame, tag: out.append((i, frame.copy(), tag)))
    head = np.array([[20, 20, 40, 40]], np.float32)
    for i, frame in enumerate(frames):
        stream.push(i, frame, head if i == 3 else np.zeros((0, 4)), f"frame {i}")
        assert len(out) == max(0, i - 1), "each frame waits for the 2 after it"
    stream.close()
    assert [i for i, _, _ in out] == list(range(6)) and [t for _, _, t in out] == [f"frame {i}" for i in range(6)]
    for i, frame, _ in out:
        changed = (frame != originals[i]).any(axis=2)
        if i == 0:
            assert not changed.any(), "frame 0 is 3 frames from the head: untouched"
        else:
            assert changed[20:40, 20:40].mean() > 0.9 and not changed[45:, :].any() and not changed[:, 45:].any()
    assert stream.blurred_frames == 5 and stream.boxes == 5


def test_the_blur_leaves_at_most_a_few_blocks_of_colour():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    before = frame.copy()
    blur_boxes(frame, np.array([[10.5, 20.2, 70.0, 90.0], [-30, -30, 5, 5], [np.nan, 0, 10, 10]]))
    region = frame[20:90, 10:70].astype(float)
    assert region.std() < 0.3 * before[20:90, 10:70].std(), "the noise (the face's detail) is gone"
    # neighbouring pixels differ by little: no edge finer than the blocks survives
    assert np.abs(np.diff(region, axis=1)).mean() < 8
    np.testing.assert_array_equal(frame[:, 75:], before[:, 75:])
    assert (frame[:5, :5] != before[:5, :5]).any(), "a box partly off the frame is clipped, not skipped"


def test_enlarged_keeps_the_centre():
    np.testing.assert_allclose(enlarged(np.array([10, 20, 30, 60]), 1.5), [[5, 10, 35, 70]])
