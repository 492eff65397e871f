"""Hip joint centres and pelvic tilt from Plug-in Gait pelvis markers."""
from __future__ import annotations

import numpy as np

from gait.analysis.kinematics import sagittal_angles
from gait.analysis.markers import pelvis_landmarks

FORWARD, UP = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])


def _pelvis(tilt_deg: float, frames: int = 5) -> dict[str, np.ndarray]:
    """ASIS 240 mm apart, PSIS 200 mm behind them, the pelvis tilted forwards by `tilt_deg`
    (world: x forwards, y left, z up; metres)."""
    t = np.radians(tilt_deg)
    back = np.array([-0.2 * np.cos(t), 0, 0.2 * np.sin(t)])  # a forward tilt lifts the PSIS
    origin = np.array([0.0, 0.0, 1.0])
    points = {"LASI": origin + [0, 0.12, 0], "RASI": origin + [0, -0.12, 0],
              "LPSI": origin + back + [0, 0.05, 0], "RPSI": origin + back + [0, -0.05, 0]}
    return {name: np.tile(p, (frames, 1)) for name, p in points.items()}


def test_harrington_hip_centres_in_the_pelvis_frame():
    landmarks = pelvis_landmarks(_pelvis(0.0))
    # PW 240 mm, PD 200 mm: x = -0.24*200-9.9 = -57.9, y = -0.30*240-10.9 = -82.9, z = 0.33*240+7.3 = 86.5 (mm)
    np.testing.assert_allclose(landmarks["right_hip"][0], [-0.0579, -0.0865, 1 - 0.0829], atol=1e-6)
    np.testing.assert_allclose(landmarks["left_hip"][0], [-0.0579, 0.0865, 1 - 0.0829], atol=1e-6)


def test_pelvic_tilt_positive_forwards():
    for tilt in (0.0, 12.0, -5.0):
        positions = pelvis_landmarks(_pelvis(tilt))
        angle = sagittal_angles(positions, FORWARD, UP)["pelvis_tilt_deg"]
        np.testing.assert_allclose(angle, tilt, atol=1e-6)


def test_no_landmarks_without_posterior_markers():
    markers = _pelvis(0.0)
    del markers["LPSI"]
    assert pelvis_landmarks(markers) == {}
    markers["SACR"] = markers["RPSI"]
    assert set(pelvis_landmarks(markers)) == {"left_hip", "right_hip", "asis_mid", "psis_mid"}
