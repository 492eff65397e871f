"""Record MotionBERT parity fixtures by running upstream's own code (run once, by hand).

    PYTHONPATH=/tmp/mbdeps .venv/bin/python scripts/make_motionbert_fixture.py --upstream /tmp/MotionBERT

`--upstream` is a checkout of Walter0807/MotionBERT outside this repository (its `lib/` is
imported from there; nothing of it is copied here). Upstream's code needs `easydict` besides what
the project's venv has: `pip install --target /tmp/mbdeps easydict` and put that on PYTHONPATH.

Writes into tests/fixtures/motionbert/:

- checkpoint_layouts.json: every key and shape of the state dict of upstream's network built
  (by its load_backbone) from the released configs MB_ft_h36m.yaml (full) and
  MB_ft_h36m_global_lite.yaml (lite), the layouts of the official checkpoints' `model_pos`.
- dstformer_small.npz: a small DSTformer configuration's weights, generated deterministically
  from each key's name and shape, a fixed input, and upstream's outputs (3D, representation, and
  without adaptive fusion).
- infer_wild_small.npz: a tiny AlphaPose Halpe-26 sequence (19 frames, clips of 8 so the last
  clip is partial) and the X3D.npy that upstream's infer_wild.py wrote for it with the small
  network, with and without --pixel, for a global and a root-relative config; plus upstream's
  coco2h36m on a COCO-17 sequence.
- fixture.json: the upstream commit, this command, versions, and the small configuration.

infer_wild.py runs unchanged through runpy; only its video reader (imageio, used for fps and
size) and its renderer (render_and_save, which draws X3D.mp4) are replaced by stand-ins, and the
debugger import `ipdb` by an empty module.
"""
from __future__ import annotations

import json
import logging
import platform
import runpy
import shlex
import subprocess
import sys
import tempfile
import types
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import torch

from gait.config import REPO_ROOT

log = logging.getLogger("make_motionbert_fixture")

DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "motionbert"
OFFICIAL_CONFIGS = {"full": "configs/pose3d/MB_ft_h36m.yaml", "lite": "configs/pose3d/MB_ft_h36m_global_lite.yaml"}
# Small enough for a fixture well under 1 MB, with several heads and layers and a maxlen above
# the clip length, so head splitting, stacking, fusion and temporal-embedding slicing are all exercised.
SMALL = {"maxlen": 16, "dim_feat": 32, "mlp_ratio": 2, "depth": 2, "dim_rep": 48, "num_heads": 4, "att_fuse": True,
         "num_joints": 17}
CLIP_LEN = 8
FRAMES = 19                 # clips 8, 8 and a partial 3
IMAGE_SIZE = (640, 360)


def generated_weight(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """A deterministic tensor for a state-dict key: seeded by the key's CRC-32, scaled by its kind
    (linear weights ~ 1/sqrt(fan-in), layer-norm gains around 1, biases and embeddings ~ 0.1-0.5)."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    noise = rng.standard_normal(shape)
    name = key.split(".")[-1]
    if key.endswith("_embed"):
        value = 0.5 * noise
    elif name == "weight" and len(shape) == 2:
        value = noise / np.sqrt(shape[1])
    elif name == "weight":                      # layer norm gain
        value = 1.0 + 0.1 * noise
    else:                                       # biases
        value = 0.1 * noise
    return value.astype(np.float32)


def upstream_commit(upstream: Path, given: str | None) -> str:
    if given:
        return given
    try:
        return subprocess.run(["git", "-C", str(upstream), "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit(f"{upstream} is not a git checkout: give its commit with --upstream-commit") from None


def install_stand_ins() -> None:
    """Modules infer_wild.py imports for video I/O, rendering and debugging only."""
    sys.modules["ipdb"] = types.ModuleType("ipdb")
    vismo = types.ModuleType("lib.utils.vismo")
    vismo.render_and_save = lambda *args, **kwargs: None
    sys.modules["lib.utils.vismo"] = vismo

    class Reader:
        def get_meta_data(self) -> dict:
            return {"fps": 30.0, "size": IMAGE_SIZE}

    imageio = types.ModuleType("imageio")
    imageio.get_reader = lambda *args, **kwargs: Reader()
    sys.modules["imageio"] = imageio


def write_config(path: Path, rootrel: bool) -> None:
    values = {**SMALL, "rootrel": rootrel, "flip": True, "no_conf": False, "gt_2d": False}
    path.write_text("".join(f"{k}: {json.dumps(v).lower() if isinstance(v, bool) else v}\n" for k, v in values.items()))


def walking_halpe(rng: np.random.Generator) -> np.ndarray:
    """(FRAMES, 26, 3) Halpe-26 keypoints of a figure moving across a 640x360 image, with noise,
    a few joints at zero confidence and per-joint confidences in (0, 1]."""
    base = rng.uniform([250, 80], [330, 300], size=(26, 2))
    drift = np.linspace(0, 120, FRAMES)[:, None, None] * np.array([1.0, 0.05])
    swing = 15 * np.sin(np.linspace(0, 4 * np.pi, FRAMES))[:, None, None] * rng.standard_normal((1, 26, 2))
    xy = base + drift + swing + rng.normal(0, 1.5, (FRAMES, 26, 2))
    confidence = rng.uniform(0.3, 1.0, (FRAMES, 26, 1))
    confidence[rng.random((FRAMES, 26, 1)) < 0.05] = 0.0
    return np.concatenate([xy, confidence], axis=-1)


def alphapose_json(keypoints: np.ndarray, path: Path) -> None:
    path.write_text(json.dumps([
        {"image_id": f"{i}.jpg", "category_id": 1, "keypoints": [float(v) for v in frame.reshape(-1)],
         "score": 2.5, "box": [0.0, 0.0, 10.0, 10.0], "idx": 1}
        for i, frame in enumerate(keypoints)
    ]))


def run_infer_wild(upstream: Path, config: Path, checkpoint: Path, json_path: Path, out: Path, pixel: bool) -> np.ndarray:
    argv = ["infer_wild.py", "--config", str(config), "-e", str(checkpoint), "-j", str(json_path),
            "-v", "stand-in.mp4", "-o", str(out), "--clip_len", str(CLIP_LEN)] + (["--pixel"] if pixel else [])
    saved = sys.argv
    sys.argv = argv
    try:
        runpy.run_path(str(upstream / "infer_wild.py"), run_name="__main__")
    finally:
        sys.argv = saved
    return np.load(out / "X3D.npy")


def main() -> None:
    from upstream_fixture import checkpoint_layout, fixture_parser, parse_fixture_arguments

    args, upstream = parse_fixture_arguments(fixture_parser(
        __doc__, "checkout of Walter0807/MotionBERT", "its commit, when the checkout has no .git", DEFAULT_OUT,
        commit_required=False))
    commit = upstream_commit(upstream, args.upstream_commit)
    torch.set_num_threads(1)
    sys.path.insert(0, str(upstream))
    install_stand_ins()
    from lib.data.dataset_action import coco2h36m
    from lib.model.DSTformer import DSTformer as UpstreamDSTformer
    from lib.utils.learning import load_backbone
    from lib.utils.tools import get_config

    args.out.mkdir(parents=True, exist_ok=True)
    layouts = {}
    for label, config in OFFICIAL_CONFIGS.items():
        state = load_backbone(get_config(str(upstream / config))).state_dict()
        layouts[label] = checkpoint_layout(config, state, int(sum(v.numel() for v in state.values())))
    (args.out / "checkpoint_layouts.json").write_text(json.dumps(layouts, indent=1) + "\n")

    rng = np.random.default_rng(20261124)
    with tempfile.TemporaryDirectory(prefix="motionbert-fixture-") as tmp:
        tmp = Path(tmp)
        configs = {}
        for rootrel in (False, True):
            configs[rootrel] = tmp / f"small_{'rootrel' if rootrel else 'global'}.yaml"
            write_config(configs[rootrel], rootrel)
        model = load_backbone(get_config(str(configs[False]))).eval()
        weights = {k: generated_weight(k, tuple(v.shape)) for k, v in model.state_dict().items()}
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
        x = np.concatenate([rng.uniform(-1, 1, (2, 12, 17, 2)), rng.uniform(0, 1, (2, 12, 17, 1))], -1).astype(np.float32)
        no_fuse = UpstreamDSTformer(dim_in=3, dim_out=3, dim_feat=SMALL["dim_feat"], dim_rep=SMALL["dim_rep"],
                                    depth=SMALL["depth"], num_heads=SMALL["num_heads"], mlp_ratio=SMALL["mlp_ratio"],
                                    norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), maxlen=SMALL["maxlen"],
                                    num_joints=17, att_fuse=False).eval()
        no_fuse.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items() if not k.startswith("ts_attn.")},
                                strict=True)
        with torch.no_grad():
            output = model(torch.from_numpy(x)).numpy()
            rep = model.get_representation(torch.from_numpy(x)).numpy()
            output_no_fuse = no_fuse(torch.from_numpy(x)).numpy()
        np.savez_compressed(args.out / "dstformer_small.npz", input=x, output=output, representation=rep,
                            output_no_fuse=output_no_fuse, **{f"weight:{k}": v for k, v in weights.items()})

        checkpoint = tmp / "best_epoch.bin"
        torch.save({"epoch": 1, "model_pos": model.state_dict()}, checkpoint)
        halpe = walking_halpe(rng)
        json_path = tmp / "alphapose-results.json"
        alphapose_json(halpe, json_path)
        cases = {}
        for name, rootrel, pixel in (("global_pixel", False, True), ("global_crop", False, False),
                                     ("rootrel_pixel", True, True)):
            cases[name] = run_infer_wild(upstream, configs[rootrel], checkpoint, json_path, tmp / name, pixel)
            log.info("infer_wild %s: X3D %s", name, cases[name].shape)
        coco = halpe[:, :17][None]
        np.savez_compressed(args.out / "infer_wild_small.npz", keypoints=halpe.astype(np.float32),
                            image_size=np.array(IMAGE_SIZE), clip_len=np.array(CLIP_LEN),
                            coco_h36m=coco2h36m(coco)[0].astype(np.float32),
                            **{f"X3D:{k}": v for k, v in cases.items()})

    command = "PYTHONPATH=/tmp/mbdeps .venv/bin/python scripts/make_motionbert_fixture.py " + shlex.join(sys.argv[1:])
    (args.out / "fixture.json").write_text(json.dumps({
        "upstream": "https://github.com/Walter0807/MotionBERT", "upstream_commit": commit,
        "command": command, "python": platform.python_version(), "torch": torch.__version__,
        "numpy": np.__version__, "small_config": SMALL, "clip_len": CLIP_LEN, "frames": FRAMES,
        "image_size": list(IMAGE_SIZE),
        "infer_wild_cases": {"global_pixel": "rootrel False, --pixel", "global_crop": "rootrel False, crop_scale",
                             "rootrel_pixel": "rootrel True, --pixel"},
        "stand_ins": "imageio.get_reader (fps 30, size 640x360), lib.utils.vismo.render_and_save (no-op), ipdb (empty)",
    }, indent=1) + "\n")
    log.info("fixtures written to %s", args.out)


if __name__ == "__main__":
    main()
