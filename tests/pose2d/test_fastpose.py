"""Our FastPose against upstream AlphaPose: same heatmaps on generated weights, same checkpoint layouts."""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

from services.pose2d.alphapose.checkpoints import CheckpointError, load_checkpoint, load_state_dict, read_checkpoint
from services.pose2d.alphapose.configs import CHECKPOINTS, CONFIGS
from services.pose2d.alphapose.fastpose import FastPose
from tests.checkpoint_checks import assert_loads_recorded_layout, assert_unreadable_files_refused

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alphapose"
HALPE_CONFIG = "halpe_26/resnet/256x192_res50_lr1e-3_1x"


def test_fixture_records_upstream_commit_and_command(alphapose_info):
    assert len(alphapose_info["upstream_commit"]) == 40
    assert "scripts/make_alphapose_fixture.py" in alphapose_info["command"]
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 2_000_000


def test_matches_upstream_on_generated_weights(fastpose_model, alphapose_recording):
    with torch.no_grad():
        out = fastpose_model(torch.from_numpy(alphapose_recording["net:input"])).numpy()
    assert out.shape == (2, 26, 24, 16)
    np.testing.assert_allclose(out, alphapose_recording["net:heatmaps"], atol=1e-4, rtol=0)


def test_outputs_depend_on_the_weights(fastpose_weights, alphapose_recording):
    """Guards the parity test itself: a changed weight changes the output beyond the tolerance."""
    model = load_state_dict(CONFIGS[HALPE_CONFIG].build(), fastpose_weights).eval()
    with torch.no_grad():
        model.preact.layer3[0].bn2.weight[:8] *= 1.5
        out = model(torch.from_numpy(alphapose_recording["net:input"])).numpy()
    assert np.abs(out - alphapose_recording["net:heatmaps"]).max() > 1e-3


@pytest.mark.parametrize("layout", ["halpe26", "coco17"])
def test_official_checkpoint_layouts(layout, alphapose_layouts):
    """Every key and shape of upstream's released networks, recorded from upstream's FastPose."""
    recorded = alphapose_layouts[layout]
    config = next(c for c in CONFIGS.values() if c.layout == layout)
    assert recorded["config"] == f"configs/{config.name}.yaml"
    model = config.build()
    assert list(model.state_dict()) == list(recorded["keys"])  # in upstream's order too
    assert_loads_recorded_layout(model, recorded, model.conv_out.weight, f"{layout} layout")


def test_checkpoint_files_name_their_configs():
    assert {c.config for c in CHECKPOINTS} <= set(CONFIGS)
    assert [c.path for c in CHECKPOINTS] == ["alphapose/halpe26_fast_res50_256x192.pth",
                                             "alphapose/fast_res50_256x192.pth"]
    assert all("non-commercial" in c.licence for c in CHECKPOINTS)


@pytest.mark.parametrize("change, named", [
    (lambda s: s.pop("preact.layer2.0.se.fc.2.bias"), "missing keys: preact.layer2.0.se.fc.2.bias"),
    (lambda s: s.update({"preact.layer1.1.se.fc.0.weight": torch.zeros(2)}),
     "unexpected keys: preact.layer1.1.se.fc.0.weight"),
    (lambda s: s.update({"conv_out.weight": torch.zeros(17, 128, 3, 3)}),
     "wrong shapes: conv_out.weight (17, 128, 3, 3) (expected (26, 128, 3, 3))"),
])
def test_mismatched_checkpoint_is_refused_and_named(fastpose_weights, change, named):
    model = CONFIGS[HALPE_CONFIG].build()
    state = dict(fastpose_weights)
    change(state)
    before = model.conv_out.weight.clone()
    with pytest.raises(CheckpointError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_state_dict(model, {"module." + k: v for k, v in state.items()})
    assert torch.equal(model.conv_out.weight, before)  # nothing loaded


def test_checkpoint_file_loads_strictly(halpe_checkpoint_dir, fastpose_model):
    model = load_checkpoint(halpe_checkpoint_dir / CHECKPOINTS[0].path, HALPE_CONFIG)
    for (name, ours), theirs in zip(model.state_dict().items(), fastpose_model.state_dict().values()):
        assert torch.equal(ours, theirs), name
    with pytest.raises(CheckpointError, match="does not fit the network: wrong shapes: conv_out.weight"):
        load_checkpoint(halpe_checkpoint_dir / CHECKPOINTS[0].path, CHECKPOINTS[1].config)  # Halpe file, COCO config


def test_unreadable_checkpoints_say_why(tmp_path):
    assert_unreadable_files_refused(read_checkpoint, tmp_path, ".pth", {"epoch": 3}, "no state dict of tensors")
    with pytest.raises(CheckpointError, match="unknown FastPose config"):
        load_checkpoint(tmp_path / "other.pth", "coco/resnet/huge")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="50, 101, 152 layers, got 18"):
        FastPose(NUM_LAYERS=18)
    with pytest.raises(ValueError, match="CONV_DIM must be 128 or 256"):
        FastPose(CONV_DIM=64)
    model = FastPose(NUM_JOINTS=17)
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
        model(torch.zeros(3, 64, 64))
    with pytest.raises(ValueError, match="multiples of 32"):
        model(torch.zeros(1, 3, 70, 64))


def test_constructor_parameters_are_documented():
    """gaitmap's habit: the docstring lists exactly the constructor's parameters."""
    params = [p for p in inspect.signature(FastPose.__init__).parameters if p != "self"]
    doc = FastPose.__doc__
    documented = {line.strip() for line in doc.splitlines()
                  if line.startswith("    ") and not line.startswith("        ") and line.strip().isidentifier() and line.strip() != "Parameters"}
    assert documented == set(params)
