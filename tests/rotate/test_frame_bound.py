"""Frames longer than GAIT_MAX_LONG_SIDE are scaled down by rotate, before anything else holds
them (issue 11: memory bounded per request); shorter ones are left as they are."""
from __future__ import annotations

import numpy as np
import pytest

from gait.video import H264Writer, probe
from services.rotate.upright import make_upright


@pytest.fixture(scope="module")
def portrait_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("bound") / "portrait.mp4"
    with H264Writer(path, 240, 320, 25.0) as writer:
        for i in range(5):
            writer.write(np.full((320, 240, 3), 40 * i, np.uint8))
    return path


@pytest.mark.parametrize(("limit", "size"), [(160, (120, 160)), (320, (240, 320)), (0, (240, 320))])
def test_frames_beyond_the_long_side_limit_are_scaled_down(portrait_clip, tmp_path, limit, size):
    upright = make_upright(portrait_clip, tmp_path / "up.mp4", tmp_path / "proxy.mp4", max_long_side=limit)
    assert (upright.width, upright.height) == size
    assert (probe(tmp_path / "up.mp4").width, probe(tmp_path / "up.mp4").height) == size
    assert (upright.source_width, upright.source_height) == (240, 320) and upright.frames == 5


def test_the_limit_is_read_from_the_environment(monkeypatch):
    from gait.config import ServiceConfig

    monkeypatch.setenv("GAIT_MAX_LONG_SIDE", "1920")
    assert ServiceConfig.from_env("rotate").max_long_side == 1920
    monkeypatch.setenv("GAIT_MAX_LONG_SIDE", "0")
    with pytest.raises(ValueError, match="GAIT_MAX_LONG_SIDE must be at least 1"):
        ServiceConfig.from_env("rotate")
