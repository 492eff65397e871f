"""Fixtures for the AlphaPose tests: upstream's recorded outputs and FastPose with the fixture's generated weights."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.recorded import recorded_arrays, recorded_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alphapose"
HALPE_CONFIG = "halpe_26/resnet/256x192_res50_lr1e-3_1x"

alphapose_info = recorded_json(FIXTURES / "fixture.json")
alphapose_layouts = recorded_json(FIXTURES / "checkpoint_layouts.json")
alphapose_recording = recorded_arrays(FIXTURES / "fastpose_res50.npz")


@pytest.fixture(scope="session")
def fastpose_weights(alphapose_layouts, alphapose_info) -> dict:
    """The fixture's weights, regenerated from the key names and shapes as the recording script made them."""
    pytest.importorskip("torch")
    from scripts.make_alphapose_fixture import generated_state, weight_sums

    state = generated_state(alphapose_layouts["halpe26"]["keys"])
    sums = weight_sums(state)
    drift = [k for k, v in alphapose_info["weight_sums"].items() if not np.isclose(sums[k], v, rtol=1e-6, atol=1e-6)]
    assert not drift, f"generated weights differ from the recorded ones (numpy's generator changed?): {drift[:3]}"
    return state


@pytest.fixture(scope="session")
def fastpose_model(fastpose_weights):
    """Our FastPose (Halpe-26, ResNet-50), strictly loaded with the fixture's weights, float32 on the CPU."""
    import torch

    from services.pose2d.alphapose.checkpoints import load_state_dict
    from services.pose2d.alphapose.configs import CONFIGS

    torch.set_num_threads(min(2, torch.get_num_threads()))
    return load_state_dict(CONFIGS[HALPE_CONFIG].build(), fastpose_weights).eval()


@pytest.fixture(scope="session")
def halpe_checkpoint_dir(tmp_path_factory, fastpose_weights):
    """A models folder holding a Halpe-26 checkpoint file with the fixture's weights, saved as upstream's
    (a bare state dict)."""
    import torch

    from services.pose2d.alphapose.configs import CHECKPOINTS

    root = tmp_path_factory.mktemp("alphapose-models")
    path = root / CHECKPOINTS[0].path
    path.parent.mkdir(parents=True)
    torch.save(fastpose_weights, path)
    return root
