"""Record AlphaPose FastPose parity fixtures by running upstream's own code (run once, by hand).

    git --git-dir=<mirror of MVIG-SJTU/AlphaPose> archive HEAD alphapose configs | tar -x -C /tmp/AlphaPose
    .venv/bin/python scripts/make_alphapose_fixture.py --upstream /tmp/AlphaPose --upstream-commit <commit>

`--upstream` is a checkout (or archive) of MVIG-SJTU/AlphaPose outside this repository; its
`alphapose/` modules are imported from there, nothing of it is copied here. Only the modules
FastPose and its inference need are loaded (alphapose/models/fastpose.py, layers/SE_Resnet.py,
SE_module.py, DUC.py; utils/transforms.py, bbox.py, presets/simple_transform.py, pPose_nms.py),
without running the packages' __init__ files (they import every model, some with compiled CUDA
extensions). Stand-ins: the SPPE registry (a no-op decorator), torchvision's ImageNet resnet that
FastPose's constructor loads into its backbone (an empty state dict: every weight is set below)
and the compiled RoIAlign that SimpleTransform constructs (unused by test_transform).

Writes into tests/fixtures/alphapose/:

- checkpoint_layouts.json: every key and shape of the state dict of upstream's FastPose built from
  the released configs configs/halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml (halpe26) and
  configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml (coco17): the layouts of
  halpe26_fast_res50_256x192.pth and fast_res50_256x192.pth.
- fastpose_res50.npz: upstream's outputs with the Halpe-26 network (real ResNet-50 layout) and
  weights generated deterministically from each key's name and shape (generated_weight below; the
  weights are not stored, the tests regenerate them and check them against per-key sums recorded
  in fixture.json):
  - `net:input` / `net:heatmaps`: a fixed (2, 3, 96, 64) input and the network's output;
  - `image`, `boxes`, `box_scores`: a synthetic 240 x 320 RGB image and three person boxes (one
    inside, one across the border, one wider than the aspect ratio), and upstream's
    test_transform crops (`crops`, as uint8 RGB), cropped boxes (`cropped_boxes`), heatmaps of the
    first crop (`heatmaps0`), and heatmap_to_coord_simple's coordinates and scores without and
    with the flip test (`coords`, `scores`, `coords_flip`, `scores_flip`, demo_inference.py's
    flip and flip_heatmap, see flip_shift in fixture.json), and pose_nms's output for one box per image.
- fixture.json: the upstream commit, this command, versions, weight sums.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import platform
import shlex
import sys
import types
import zlib
from pathlib import Path

import numpy as np
import torch

from gait.config import REPO_ROOT

log = logging.getLogger("make_alphapose_fixture")

DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "alphapose"
OFFICIAL_CONFIGS = {"halpe26": "configs/halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml",
                    "coco17": "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"}
HALPE_PAIRS = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [20, 21], [22, 23], [24, 25]]
NET_INPUT = (2, 3, 96, 64)
IMAGE_SHAPE = (240, 320, 3)
BOXES = np.array([[120.0, 40.5, 190.0, 225.0],     # a standing person, inside the image
                  [250.0, 100.0, 335.0, 250.0],    # across the right and bottom borders
                  [10.0, 150.0, 150.0, 210.0]],    # wider than 192/256: the height is stretched
                 dtype=np.float32)
BOX_SCORES = np.array([0.93, 0.61, 0.48], dtype=np.float32)


def generated_weight(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """A deterministic tensor for a state-dict key, from uniform draws of a generator seeded by the
    key's CRC-32: convolution and linear weights with variance 1 / fan-in, batch-norm gains around 1,
    running variances in [1, 1.5), biases and running means ~0.1, num_batches_tracked a count."""
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    name = key.rsplit(".", 1)[-1]
    if name == "num_batches_tracked":
        return np.array(zlib.crc32(key.encode()) % 100000, dtype=np.int64)
    uniform = rng.random(shape) * 2 - 1                       # [-1, 1)
    if name == "weight" and len(shape) >= 2:                  # convolution or linear
        value = uniform * np.sqrt(3.0 / int(np.prod(shape[1:])))
    elif name == "weight":                                    # batch-norm gain
        value = 1.0 + 0.2 * uniform
    elif name == "running_var":
        value = 1.25 + 0.25 * uniform
    else:                                                     # biases, running means
        value = 0.1 * uniform
    return value.astype(np.float32)


def generated_state(layout: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    return {key: torch.from_numpy(generated_weight(key, tuple(shape))) for key, shape in layout.items()}


def weight_sums(state: dict[str, torch.Tensor]) -> dict[str, float]:
    return {key: float(value.double().sum()) for key, value in state.items()}


def synthetic_image() -> np.ndarray:
    """A smooth RGB test image with a few shapes and mild noise, the same on every machine."""
    height, width, _ = IMAGE_SHAPE
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    image = np.stack([128 + 90 * np.sin(x / 23.0) * np.cos(y / 31.0), 60 + 0.5 * x + 0.2 * y,
                      200 - 0.6 * y + 30 * np.sin((x + y) / 17.0)], axis=-1)
    image[(x - 160) ** 2 / 30 ** 2 + (y - 80) ** 2 / 25 ** 2 < 1] = (230, 200, 170)      # a head-like blob
    image[60:200, 140:180] = (40, 70, 150)                                                # a torso-like bar
    image += np.random.default_rng(7).normal(0, 4, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def _package(name: str, path: Path | None) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = [str(path)] if path else []
    sys.modules[name] = module
    return module


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_upstream(upstream: Path) -> types.SimpleNamespace:
    """Upstream's FastPose and inference functions, without its package __init__ files."""
    root = upstream / "alphapose"
    for name, path in (("alphapose", root), ("alphapose.models", root / "models"),
                       ("alphapose.models.layers", root / "models" / "layers"), ("alphapose.utils", root / "utils"),
                       ("alphapose.utils.presets", root / "utils" / "presets")):
        _package(name, path)
    builder = types.ModuleType("alphapose.models.builder")
    builder.SPPE = types.SimpleNamespace(register_module=lambda cls: cls)
    sys.modules["alphapose.models.builder"] = builder
    roi_align = types.ModuleType("alphapose.utils.roi_align")
    roi_align.RoIAlign = lambda *args, **kwargs: None
    sys.modules["alphapose.utils.roi_align"] = roi_align
    torchvision, models = types.ModuleType("torchvision"), types.ModuleType("torchvision.models")
    for depth in (18, 34, 50, 101, 152):
        setattr(models, f"resnet{depth}", lambda pretrained=False: torch.nn.Module())
    torchvision.models = models
    sys.modules.update({"torchvision": torchvision, "torchvision.models": models})
    fastpose = _load("alphapose.models.fastpose", root / "models" / "fastpose.py")
    transforms = _load("alphapose.utils.transforms", root / "utils" / "transforms.py")
    simple = _load("alphapose.utils.presets.simple_transform", root / "utils" / "presets" / "simple_transform.py")
    nms = _load("alphapose.utils.pPose_nms", root / "utils" / "pPose_nms.py")
    return types.SimpleNamespace(FastPose=fastpose.FastPose, transforms=transforms, SimpleTransform=simple.SimpleTransform,
                                 pose_nms=nms.pose_nms)


def build_upstream(up: types.SimpleNamespace, config: Path) -> torch.nn.Module:
    """FastPose from a config file as upstream's builder does: MODEL minus TYPE, PRESET = DATA_PRESET."""
    import yaml

    cfg = yaml.safe_load(config.read_text())
    model = {k: v for k, v in cfg["MODEL"].items() if k != "TYPE"}
    assert cfg["MODEL"]["TYPE"] == "FastPose" and cfg["LOSS"]["TYPE"] == "MSELoss", cfg
    return up.FastPose(PRESET=cfg["DATA_PRESET"], **model)


def main() -> None:
    from upstream_fixture import checkpoint_layout, fixture_parser, parse_fixture_arguments

    args, upstream = parse_fixture_arguments(fixture_parser(
        __doc__, "checkout or archive of MVIG-SJTU/AlphaPose", "its commit", DEFAULT_OUT))
    torch.set_num_threads(2)
    up = load_upstream(upstream)
    args.out.mkdir(parents=True, exist_ok=True)

    layouts, models = {}, {}
    for label, config in OFFICIAL_CONFIGS.items():
        models[label] = build_upstream(up, upstream / config).eval()
        layouts[label] = checkpoint_layout(config, models[label].state_dict(),
                                           int(sum(p.numel() for p in models[label].parameters())))
    (args.out / "checkpoint_layouts.json").write_text(json.dumps(layouts, indent=0) + "\n")

    model = models["halpe26"]
    weights = generated_state(layouts["halpe26"]["keys"])
    model.load_state_dict(weights, strict=True)
    rng = np.random.default_rng(20261201)
    record: dict[str, np.ndarray] = {}
    net_input = rng.uniform(-0.5, 0.5, NET_INPUT).astype(np.float32)
    smears = False
    with torch.no_grad():
        record["net:input"] = net_input
        record["net:heatmaps"] = model(torch.from_numpy(net_input)).numpy()

        image = synthetic_image()
        dataset = types.SimpleNamespace(joint_pairs=HALPE_PAIRS)
        transform = up.SimpleTransform(dataset, scale_factor=0, add_dpg=False, input_size=[256, 192],
                                       output_size=[64, 48], rot=0, sigma=2, train=False)
        inps = torch.zeros(len(BOXES), 3, 256, 192)
        cropped = torch.zeros(len(BOXES), 4)
        for i, box in enumerate(torch.from_numpy(BOXES)):        # detector.py's image_postprocess
            inps[i], cropped_box = transform.test_transform(image, box)
            cropped[i] = torch.FloatTensor(cropped_box)
        crops = inps + torch.tensor([0.406, 0.457, 0.480])[:, None, None]
        record["crops"] = np.round(crops.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
        assert np.abs(record["crops"] / 255.0 - crops.permute(0, 2, 3, 1).numpy()).max() < 1e-5
        hm = model(inps)
        flipped = model(torch.cat((inps, up.transforms.flip(inps))))  # demo_inference.py with --flip
        # flip_heatmap(shift=True) shifts with `out[..., 1:] = out[..., 0:-1]`, an in-place copy onto
        # its own overlapping source: recent PyTorch (2.13 here, CPU) then smears columns instead of
        # shifting them (checked below, recorded in fixture.json). The shift meant (SimpleBaseline's and HRNet's
        # flip test, which clone first) is applied to upstream's flip_heatmap(shift=False).
        back = up.transforms.flip_heatmap(flipped[len(BOXES):].clone(), HALPE_PAIRS, shift=False)
        back[..., 1:] = back.clone()[..., :-1]
        smeared = up.transforms.flip_heatmap(flipped[len(BOXES):].clone(), HALPE_PAIRS, shift=True)
        smears = not torch.equal(smeared, back)
        log.info("upstream's in-place shift differs from the shift meant: %s", smears)
        hm_flip = (flipped[:len(BOXES)] + back) / 2
        for suffix, heatmaps in (("", hm), ("_flip", hm_flip)):
            coords, scores = zip(*(up.transforms.heatmap_to_coord_simple(heatmaps[i], cropped[i].tolist(),
                                                                         hm_shape=[64, 48], norm_type=None)
                                   for i in range(len(BOXES))))
            record[f"coords{suffix}"] = np.stack(coords).astype(np.float32)
            record[f"scores{suffix}"] = np.stack(scores)[..., 0].astype(np.float32)
        record["heatmaps0"] = hm[0].numpy()
        record["heatmaps0_flip"] = hm_flip[0].numpy()
        # pose_nms with one box per image (as pose2d gives it), on the flip-test poses
        nms_scores, nms_kept, nms_proposal = [], [], []
        for i in range(len(BOXES)):
            out = up.pose_nms(torch.from_numpy(BOXES[i:i + 1]), torch.from_numpy(BOX_SCORES[i:i + 1, None]),
                              torch.zeros(1, 1), torch.from_numpy(record["coords_flip"][i:i + 1]),
                              torch.from_numpy(record["scores_flip"][i:i + 1, :, None]).clone())
            _, box_scores, _, _, pose_scores, _ = out
            nms_kept.append(len(pose_scores) == 1)
            if nms_kept[-1]:
                s = pose_scores[0].reshape(-1)
                nms_scores.append(s.numpy())
                nms_proposal.append(float(torch.mean(s) + box_scores[0].reshape(-1)[0] + 1.25 * max(s)))  # writer.py
            else:
                nms_scores.append(np.full(26, np.nan, np.float32))
                nms_proposal.append(np.nan)
        record.update({"image": image, "boxes": BOXES, "box_scores": BOX_SCORES, "cropped_boxes": cropped.numpy(),
                       "nms_kept": np.array(nms_kept), "nms_scores": np.stack(nms_scores).astype(np.float32),
                       "nms_proposal": np.array(nms_proposal, np.float32)})
    np.savez_compressed(args.out / "fastpose_res50.npz", **record)
    for name, value in record.items():
        log.info("%s %s %s", name, value.shape, value.dtype)

    command = ".venv/bin/python scripts/make_alphapose_fixture.py " + shlex.join(sys.argv[1:])
    (args.out / "fixture.json").write_text(json.dumps({
        "upstream": "https://github.com/MVIG-SJTU/AlphaPose", "upstream_commit": args.upstream_commit,
        "command": command, "python": platform.python_version(), "torch": torch.__version__,
        "numpy": np.__version__, "config": OFFICIAL_CONFIGS["halpe26"], "joint_pairs": HALPE_PAIRS,
        "stand_ins": "alphapose.models.builder.SPPE (no-op register_module), torchvision.models.resnetN "
                     "(empty module: ImageNet weights replaced by generated ones), alphapose.utils.roi_align.RoIAlign "
                     "(unused by test_transform); package __init__ files not run",
        "flip_shift": "upstream's flip_heatmap(shift=False), then shifted one column right with a copy (the shift "
                      "flip_heatmap(shift=True) means); its in-place shift on this PyTorch "
                      + ("does not give that shift (overlapping in-place copy)" if smears else "gives that shift"),
        "weight_sums": weight_sums(weights),
    }, indent=0) + "\n")
    log.info("fixtures written to %s", args.out)


if __name__ == "__main__":
    main()
