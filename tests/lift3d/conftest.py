"""Fixtures for the MotionBERT tests: the recorded upstream outputs and a small DSTformer with their weights."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.recorded import recorded_arrays, recorded_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "motionbert"


@pytest.fixture(scope="session", autouse=True)
def _modest_torch_threads():
    """The test machine is shared: two threads are enough for these small networks."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(min(2, previous))
    yield
    torch.set_num_threads(previous)


fixture_info = recorded_json(FIXTURES / "fixture.json")
small_recording = recorded_arrays(FIXTURES / "dstformer_small.npz")
wild_recording = recorded_arrays(FIXTURES / "infer_wild_small.npz")


@pytest.fixture(scope="session")
def small_weights(small_recording) -> dict:
    import torch

    return {name.split(":", 1)[1]: torch.from_numpy(value) for name, value in small_recording.items()
            if name.startswith("weight:")}


@pytest.fixture()
def small_model(fixture_info, small_weights):
    """Our DSTformer in the fixture's small configuration, loaded strictly with the recorded weights."""
    from services.lift3d.motionbert.checkpoints import load_state_dict
    from services.lift3d.motionbert.dstformer import DSTformer

    model = DSTformer(dim_in=3, dim_out=3, **fixture_info["small_config"]).eval()
    return load_state_dict(model, small_weights)


@pytest.fixture(scope="session")
def small_config(fixture_info):
    """small_config(rootrel) -> the inference config of the fixture's small network."""
    from services.lift3d.motionbert.configs import MotionBERTConfig

    small = fixture_info["small_config"]

    def make(rootrel: bool) -> MotionBERTConfig:
        return MotionBERTConfig("small", dim_feat=small["dim_feat"], dim_rep=small["dim_rep"], depth=small["depth"],
                                num_heads=small["num_heads"], mlp_ratio=small["mlp_ratio"], maxlen=small["maxlen"],
                                rootrel=rootrel)

    return make


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
