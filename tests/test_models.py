"""`gait models`: usable backends, their files, checksums and strict loading of checkpoints."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gait.assets import MODELS
from gait.config import models_dir


def _models(folder, *extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAIT_MODELS_DIR": str(folder)}
    return subprocess.run([sys.executable, "-m", "gaitcli.main", "models", *extra], capture_output=True, text=True,
                          timeout=300, env=env)


def test_an_empty_models_folder(tmp_path):
    done = _models(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "blazepose [pose2d (and lift3d: blazepose-world)]: not usable - needs its files" in done.stdout
    assert "motionbert [lift3d]: not usable - needs one of its files" in done.stdout
    assert "motionbert/FT_MB_lite_MB_ft_h36m_global_lite/best_epoch.bin: missing" in done.stdout
    assert "licence: Apache-2.0" in done.stdout and "sha256 expected: not published upstream" in done.stdout
    assert "alphapose-fastpose [pose2d]: not usable - needs one of its files" in done.stdout
    assert "alphapose/halpe26_fast_res50_256x192.pth: missing" in done.stdout
    assert "alphapose/fast_res50_256x192.pth: missing" in done.stdout
    assert "non-commercial use only" in done.stdout


def test_placed_alphapose_checkpoint_is_loaded_strictly(tmp_path):
    torch = pytest.importorskip("torch")
    from services.pose2d.alphapose.configs import CHECKPOINTS, CONFIGS

    coco = CHECKPOINTS[1]
    target = tmp_path / coco.path
    target.parent.mkdir(parents=True)
    state = CONFIGS[coco.config].build().state_dict()
    torch.save({f"module.{k}": v for k, v in state.items()}, target)
    right = _models(tmp_path)
    assert "alphapose-fastpose [pose2d]: usable" in right.stdout and f"{coco.path}: ok" in right.stdout, right.stdout
    state.pop("conv_out.bias")
    torch.save(state, target)
    wrong = _models(tmp_path)
    assert wrong.returncode == 1 and f"{coco.path}: WRONG: does not load" in wrong.stdout


def test_placed_files_are_checked(tmp_path):
    torch = pytest.importorskip("torch")
    from services.lift3d.motionbert.configs import CHECKPOINTS, CONFIGS

    for asset in MODELS:  # BlazePose's two and BlazeFace (de-identification): the embedded default's files
        (tmp_path / asset.target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(models_dir() / asset.target, tmp_path / asset.target)
    lite = CHECKPOINTS[0]
    target = tmp_path / lite.path
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not a checkpoint")
    wrong = _models(tmp_path)
    assert wrong.returncode == 1
    assert "blazepose [pose2d (and lift3d: blazepose-world)]: usable" in wrong.stdout
    assert f"{lite.path}: WRONG: does not load" in wrong.stdout
    model = CONFIGS[lite.config].build()
    torch.save({"model_pos": {f"module.{k}": v for k, v in model.state_dict().items()}}, target)
    right = _models(tmp_path)
    assert right.returncode == 0, right.stdout
    assert "motionbert [lift3d]: usable" in right.stdout and f"{lite.path}: ok" in right.stdout
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    state.pop(next(iter(state)))
    torch.save({"model_pos": state}, target)
    missing_key = _models(tmp_path)
    assert missing_key.returncode == 1 and "WRONG: does not load" in missing_key.stdout
    assert _models(tmp_path, "--no-load").returncode == 0  # checksums only: no published one to compare


def test_data_dir_follows_gait_data_dir(monkeypatch, tmp_path):
    """Images keep the reference data outside the package (GAIT_DATA_DIR); checkouts use data/."""
    from gait.assets import demo_clip_path, reference_path
    from gait.config import REPO_ROOT

    monkeypatch.delenv("GAIT_DATA_DIR", raising=False)
    assert reference_path("x.txt") == REPO_ROOT / "data" / "reference" / "x.txt"
    monkeypatch.setenv("GAIT_DATA_DIR", str(tmp_path))
    assert reference_path("x.txt") == tmp_path / "reference" / "x.txt"
    assert demo_clip_path().is_relative_to(tmp_path)
