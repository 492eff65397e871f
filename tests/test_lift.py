"""`gait lift`: a lab's AlphaPose results become a pose2d bundle, lifted by MotionBERT and analyzed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gait.artifacts import Bundle
from gait.config import StoreConfig
from gait.errors import InvalidInput
from gait.ingest import ingest_alphapose_results
from gait.store import open_store
from gaitcli.lift import parse_image_size
from tests.analysis.test_alphapose_json import walker_and_bystander


@pytest.fixture()
def results_file(tmp_path):
    walker, results = walker_and_bystander()
    path = tmp_path / "alphapose-results.json"
    path.write_text(json.dumps(results))
    return walker, path


def test_alphapose_results_become_a_pose2d_bundle(results_file, tmp_path):
    walker, path = results_file
    store = open_store(StoreConfig(backend="local", local_dir=tmp_path / "store"))
    bundle = ingest_alphapose_results(store, path, 30.0, 1920, 1080)
    opened = Bundle.open(store, bundle.key, expected_stage="pose2d")
    assert opened.meta["fps"] == 30.0 and (opened.meta["width"], opened.meta["height"]) == (1920, 1080)
    assert opened.meta["layout"] == "halpe26" and opened.meta["subject"]["track_id"] == 3
    assert opened.manifest["backend"] == {"name": "alphapose-results", "version": "external"}
    seen = np.isfinite(walker[:, 0, 0])
    np.testing.assert_allclose(opened.read_npy("keypoints2d.npy")[seen], walker[seen], atol=1e-3)
    assert opened.meta["detection_rate"] == pytest.approx(seen.mean())
    assert ingest_alphapose_results(store, path, 30.0, 1920, 1080).key == bundle.key
    assert ingest_alphapose_results(store, path, 25.0, 1920, 1080).key != bundle.key
    with pytest.raises(InvalidInput, match="must be positive"):
        ingest_alphapose_results(store, path, 0.0, 1920, 1080)


def test_image_size_is_width_x_height():
    assert parse_image_size("1920x1080") == (1920, 1080) and parse_image_size(" 720 X 1280 ") == (720, 1280)
    for bad in ("1920", "1920x", "0x1080", "wide"):
        with pytest.raises(InvalidInput, match="WIDTHxHEIGHT"):
            parse_image_size(bad)


def _lift(path, out, models, home, *extra):
    env = {**os.environ, "GAIT_MODELS_DIR": str(models), "GAIT_HOME": str(home)}
    env.pop("GAIT_STORE_DIR", None)
    return subprocess.run([sys.executable, "-m", "gaitcli.main", "lift", str(path), "--rate-hz", "30", "--out", str(out),
                           *extra], capture_output=True, text=True, timeout=300, env=env)


def test_gait_lift_runs_motionbert_and_the_analysis(results_file, tmp_path):
    torch = pytest.importorskip("torch")
    from services.lift3d.motionbert.configs import CHECKPOINTS, CONFIGS

    _, path = results_file
    checkpoint = next(c for c in CHECKPOINTS if c.config == "MB_ft_h36m_global_lite")
    models = tmp_path / "models"
    (models / checkpoint.path).parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save({"model_pos": CONFIGS[checkpoint.config].build().state_dict()}, models / checkpoint.path)
    out = tmp_path / "out"
    done = _lift(path, out, models, tmp_path / "home", "--image-size", "1920x1080")
    assert done.returncode == 0, done.stderr
    assert "3D by motionbert" in done.stderr
    x3d = np.load(out / "results" / "X3D.npy")
    assert x3d.shape == (240, 17, 3)
    manifest = json.loads((out / "manifests" / "lift3d.json").read_text())
    assert manifest["backend"]["name"] == "motionbert"
    assert (out / "alphapose-results" / "alphapose-results.json").read_bytes() == path.read_bytes()
    assert "alphapose-results external" in (out / "analysis" / "report.html").read_text()


def test_gait_lift_without_motionbert_says_what_is_missing(results_file, tmp_path):
    _, path = results_file
    done = _lift(path, tmp_path / "out", tmp_path / "no-models", tmp_path / "home", "--image-size", "1920x1080")
    assert done.returncode == 2 and "needs MotionBERT" in done.stderr and "Traceback" not in done.stderr
    bad_size = _lift(path, tmp_path / "out", tmp_path / "no-models", tmp_path / "home", "--image-size", "1920")
    assert bad_size.returncode == 2 and "WIDTHxHEIGHT" in bad_size.stderr
