"""Our DSTformer against upstream MotionBERT: same outputs on recorded weights, same checkpoint layouts."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from services.lift3d.motionbert.checkpoints import (
    CheckpointError,
    load_checkpoint,
    load_state_dict,
    read_checkpoint,
)
from services.lift3d.motionbert.configs import CHECKPOINTS, CONFIGS
from services.lift3d.motionbert.dstformer import DSTformer
from tests.checkpoint_checks import assert_loads_recorded_layout, assert_unreadable_files_refused


def test_fixture_records_upstream_commit_and_command(fixture_info, fixtures_dir):
    assert len(fixture_info["upstream_commit"]) == 40
    assert "scripts/make_motionbert_fixture.py" in fixture_info["command"]
    for name in ("dstformer_small.npz", "infer_wild_small.npz", "checkpoint_layouts.json"):
        assert (fixtures_dir / name).stat().st_size < 1_000_000


def test_matches_upstream_on_recorded_weights(small_model, small_recording):
    x = torch.from_numpy(small_recording["input"])
    with torch.no_grad():
        np.testing.assert_allclose(small_model(x).numpy(), small_recording["output"], atol=1e-4, rtol=0)
        np.testing.assert_allclose(small_model.get_representation(x).numpy(), small_recording["representation"],
                                   atol=1e-4, rtol=0)


def test_outputs_depend_on_the_weights(small_model, small_recording):
    """Guards the parity test itself: a changed weight changes the output beyond the tolerance."""
    with torch.no_grad():
        small_model.blocks_ts[1].attn_t.qkv.weight[0, 0] += 0.5
        out = small_model(torch.from_numpy(small_recording["input"])).numpy()
    assert np.abs(out - small_recording["output"]).max() > 1e-3


def test_matches_upstream_without_adaptive_fusion(fixture_info, small_weights, small_recording):
    model = DSTformer(dim_in=3, dim_out=3, **{**fixture_info["small_config"], "att_fuse": False}).eval()
    load_state_dict(model, {k: v for k, v in small_weights.items() if not k.startswith("ts_attn.")})
    with torch.no_grad():
        out = model(torch.from_numpy(small_recording["input"])).numpy()
    np.testing.assert_allclose(out, small_recording["output_no_fuse"], atol=1e-4, rtol=0)


def test_half_precision_stays_close(small_model, small_recording):
    x = torch.from_numpy(small_recording["input"])
    with torch.no_grad():
        out = small_model.half()(x.half()).float().numpy()
    np.testing.assert_allclose(out, small_recording["output"], atol=2e-2, rtol=0)


@pytest.mark.parametrize("layout, config", [("full", "MB_ft_h36m"), ("lite", "MB_ft_h36m_global_lite")])
def test_official_checkpoint_layouts(layout, config, fixtures_dir):
    """Every key and shape of upstream's released networks, recorded from upstream's load_backbone."""
    recorded = json.loads((fixtures_dir / "checkpoint_layouts.json").read_text())[layout]
    assert recorded["config"] == f"configs/pose3d/{config}.yaml"
    model = CONFIGS[config].build()
    assert_loads_recorded_layout(model, recorded, model.head.weight, f"{layout} layout")


def test_checkpoint_files_name_their_configs():
    assert {c.config for c in CHECKPOINTS} <= set(CONFIGS)
    assert all(c.path.endswith("/best_epoch.bin") and c.path.startswith("motionbert/") for c in CHECKPOINTS)
    assert CONFIGS["MB_ft_h36m"].rootrel and not CONFIGS["MB_ft_h36m_global_lite"].rootrel


@pytest.mark.parametrize("change, named", [
    (lambda s: s.pop("blocks_st.1.mlp_t.fc2.bias"), "missing keys: blocks_st.1.mlp_t.fc2.bias"),
    (lambda s: s.update({"blocks_st.0.attn_s.ts_attn.weight": torch.zeros(2)}),
     "unexpected keys: blocks_st.0.attn_s.ts_attn.weight"),
    (lambda s: s.update({"head.weight": torch.zeros(3, 7)}), "wrong shapes: head.weight (3, 7) (expected (3, 48))"),
])
def test_mismatched_checkpoint_is_refused_and_named(small_model, small_weights, change, named):
    state = {k: v.clone() for k, v in small_weights.items()}
    change(state)
    before = small_model.head.weight.clone()
    with pytest.raises(CheckpointError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_state_dict(small_model, {"module." + k: v for k, v in state.items()})
    assert torch.equal(small_model.head.weight, before)  # nothing loaded


def _numpy1_names(path):
    """Rewrite a torch.save archive so its pickle names numpy 1's module (as upstream's files do)."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    name = next(n for n in members if n.endswith("/data.pkl"))
    assert b"numpy._core.multiarray" in members[name]
    members[name] = members[name].replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:
        for filename, data in members.items():
            target.writestr(filename, data)


@pytest.mark.parametrize("numpy1", [False, True])
def test_upstream_style_checkpoint_file_loads(tmp_path, small_config, small_weights, small_recording, numpy1):
    """A file laid out as upstream's train.py saves it: DataParallel keys, optimizer, numpy min_loss."""
    path = tmp_path / "best_epoch.bin"
    torch.save({"epoch": 60, "lr": 1e-5, "optimizer": {"state": {}, "param_groups": [{"lr": 1e-5}]},
                "model_pos": {"module." + k: v for k, v in small_weights.items()}, "min_loss": np.float64(37.2)}, path)
    if numpy1:
        _numpy1_names(path)
    model = load_checkpoint(path, small_config(rootrel=True))
    with torch.no_grad():
        out = model(torch.from_numpy(small_recording["input"])).numpy()
    np.testing.assert_allclose(out, small_recording["output"], atol=1e-4, rtol=0)


def test_unreadable_checkpoints_say_why(tmp_path):
    assert_unreadable_files_refused(read_checkpoint, tmp_path, ".bin", {"epoch": 3, "model": {}},
                                    "no 'model_pos' state dict")
    with pytest.raises(CheckpointError, match="unknown MotionBERT config"):
        load_checkpoint(tmp_path / "other.bin", "MB_ft_h36m_huge")


def test_bad_input_shapes_are_named(small_model):
    with pytest.raises(ValueError, match=r"\(batch, frames, joints, channels\)"):
        small_model(torch.zeros(12, 17, 3))
    with pytest.raises(ValueError, match="17 joints with 3 channels"):
        small_model(torch.zeros(1, 12, 26, 3))
    with pytest.raises(ValueError, match="17 joints with 3 channels"):
        small_model(torch.zeros(1, 12, 17, 2))
    with pytest.raises(ValueError, match="clips of 1 to 16 frames, got 17"):
        small_model(torch.zeros(1, 17, 17, 3))


def test_constructor_parameters_are_documented():
    """gaitmap's habit: the docstring lists exactly the constructor's parameters."""
    import inspect

    params = [p for p in inspect.signature(DSTformer.__init__).parameters if p != "self"]
    doc = DSTformer.__doc__
    documented = {name for line in doc.splitlines() for name in line.strip().split(", ")
                  if line.startswith("    ") and not line.startswith("        ") and name.isidentifier()}
    assert documented == set(params)
