"""Record YOLOv3-SPP detector parity fixtures by running upstream AlphaPose's own code (run once, by hand).

    git --git-dir=<mirror of MVIG-SJTU/AlphaPose> archive <commit> detector | tar -x -C /tmp/AlphaPose
    .venv/bin/python scripts/make_yolo_fixture.py --upstream /tmp/AlphaPose --upstream-commit <commit>

`--upstream` is a checkout (or archive) of MVIG-SJTU/AlphaPose outside this repository; its
`detector/` modules are imported from there (detector/yolo_api.py, yolo_cfg.py, apis.py,
nms/nms_wrapper.py, yolo/darknet.py, util.py, preprocess.py, bbox.py, and the cfg file
detector/yolo/cfg/yolov3-spp.cfg), nothing of it is copied here. What cannot be imported as it
is, is replaced (each listed in yolo_fixture.json, "stand_ins"):

- detector/nms's compiled extensions: nms_cpu is compiled here from upstream's own
  detector/nms/src/nms_cpu.cpp (torch.utils.cpp_extension, into --build-dir); nms_cuda (CUDA
  only) and soft_nms_cpu (Cython, unused by the YOLO detector) are empty stand-ins;
- easydict (yolo_cfg.py's EasyDict, not installed here): a dict with attribute access.

Upstream runs on the CPU (its `opt`: device "cpu", gpus [-1], tracking off) at an input size of
INPUT_SIZE (320; upstream's 608 only changes the grid sizes), with a darknet weights file written
from weights generated deterministically from each convolution's position and shape in the cfg
(generated_values below; upstream's own Darknet.load_weights reads it). The file itself is not
stored (252 MB): the tests regenerate the values and check them against per-layer sums.

Writes into tests/fixtures/yolo/:

- yolov3_spp.npz:
  - `frame`: a synthetic 200 x 300 BGR frame; `input_rgb`: upstream's network input for it
    (prep_frame: letterbox to 320 x 320, RGB) x 255 as uint8 (exact);
  - `raw32`: the stride-32 output (1, 255, 10, 10) in full; `sum16`, `sum8`: per-channel sums of the
    stride-16 and stride-8 outputs, and `sample16`/`sample8` at the flat indices `index16`/`index8`;
  - `prediction5`: predict_transform's decoded rows (1, 6300, :5) (centre, size, objectness) in full,
    `class_sums`: the class scores' per-column sums, `person_rows`: the full rows (85 values) of the
    candidates (objectness > CONFIDENCE and most likely class person) and `person_index` their row numbers;
  - `dets`: images_detection's output (n, 8): batch index, x1, y1, x2, y2 (frame pixels), objectness,
    person score, class, at confidence CONFIDENCE and NMS 0.6 (yolo_cfg.NMS_THRES);
  - `post:*`: post-processing alone on synthetic decoded predictions (synthetic_prediction below,
    three frames of different sizes, one with more than 100 boxes after NMS at 0.6 so that
    dynamic_write_results redoes it at 0.55): `post:dims` (w, h per frame) and per frame `post:dets<i>`,
    images_detection's output for that frame alone (batch of 1).
- yolo_fixture.json: the upstream commit, this command, versions, thresholds, stand-ins, the cfg's
  convolution layout (in, out, kernel, stride, batch norm) and per-layer sums of the generated values.
"""
from __future__ import annotations

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

log = logging.getLogger("make_yolo_fixture")

DEFAULT_OUT = REPO_ROOT / "tests" / "fixtures" / "yolo"
CFG = "detector/yolo/cfg/yolov3-spp.cfg"
INPUT_SIZE = 320
FRAME_SHAPE = (200, 300, 3)
CONFIDENCE = 0.8          # objectness threshold for the generated network: a few dozen boxes survive (upstream's is 0.1)
NMS_THRESHOLD = 0.6       # yolo_cfg.NMS_THRES
POST_CONFIDENCE = 0.1     # yolo_cfg.CONFIDENCE, for the synthetic predictions
POST_DIMS = ((300, 200), (480, 640), (320, 320))       # (width, height) of the synthetic frames
OUTPUT_GAIN = 8.0         # the output convolutions' weights x this: logits of a few units, so that some boxes pass
PERSON_BIAS = 1.0         # added to the outputs' person-class biases: else another class wins everywhere
HEADER = (0, 2, 0, 32013312)                           # major, minor, revision, images seen
SAMPLES = 4000


def generated_values(layout: list[list]) -> np.ndarray:
    """Darknet weights-file values (float32, file order) for convolutions (in, out, kernel, stride,
    batch norm), each layer from a generator seeded by the CRC-32 of its position: batch norm bias
    ~0.1, gain around 1, running mean ~0.1, running variance in [1, 1.5); output biases ~0.1;
    convolution weights uniform with variance 1 / fan-in (x OUTPUT_GAIN^2 for the three outputs, whose
    person-class biases are raised by PERSON_BIAS)."""
    parts = []
    for i, (cin, cout, k, _, bn) in enumerate(layout):
        rng = np.random.default_rng(zlib.crc32(f"conv{i}".encode()))
        if bn:
            u = rng.random((4, cout)) * 2 - 1
            parts += [0.1 * u[0], 1.0 + 0.2 * u[1], 0.1 * u[2], 1.25 + 0.25 * u[3]]
        else:
            bias = 0.1 * (rng.random(cout) * 2 - 1)
            bias[5::cout // 3] += PERSON_BIAS                 # each anchor's values: tx, ty, tw, th, objectness, classes
            parts.append(bias)
        fan_in = cin * k * k
        gain = 1.0 if bn else OUTPUT_GAIN
        parts.append((rng.random(cout * fan_in, dtype=np.float32) * 2 - 1) * np.float32(gain * np.sqrt(3.0 / fan_in)))
    return np.concatenate([p.astype(np.float32) for p in parts])


def layer_sums(layout: list[list], values: np.ndarray) -> list[float]:
    """The sum of each layer's values (float64), for checking regenerated weights."""
    sums, offset = [], 0
    for cin, cout, k, _, bn in layout:
        count = cout * (4 if bn else 1) + cout * cin * k * k
        sums.append(float(values[offset:offset + count].astype(np.float64).sum()))
        offset += count
    return sums


def synthetic_frame() -> np.ndarray:
    """A 200 x 300 BGR frame: a smooth background, two person-like figures, mild noise."""
    height, width, _ = FRAME_SHAPE
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frame = np.stack([150 + 60 * np.cos(x / 29.0), 110 + 0.3 * x, 170 - 0.4 * y + 25 * np.sin((x - y) / 19.0)], -1)
    for cx, top, colour in ((90, 30, (60, 90, 160)), (210, 50, (150, 60, 40))):
        frame[(x - cx) ** 2 + (y - top - 12) ** 2 < 12 ** 2] = (150, 180, 220)      # head
        frame[top + 25:top + 110, cx - 18:cx + 18] = colour                           # torso
        frame[top + 110:top + 160, cx - 16:cx - 4] = (40, 40, 40)                     # legs
        frame[top + 110:top + 160, cx + 4:cx + 16] = (40, 40, 40)
    frame += np.random.default_rng(11).normal(0, 3, frame.shape)
    return np.clip(np.round(frame), 0, 255).astype(np.uint8)


def synthetic_prediction(input_size: int = INPUT_SIZE, rows: int = 6300, classes: int = 80) -> np.ndarray:
    """Decoded predictions (3, rows, 5 + classes) for the post-processing: background rows under the
    threshold; clusters of overlapping person boxes (NMS work); confident rows of other classes;
    in frame 2, 130 well-separated boxes each with a twin at IoU 0.575 (kept at NMS 0.6, suppressed at 0.55)."""
    rng = np.random.default_rng(5)
    pred = np.zeros((3, rows, 5 + classes), np.float32)
    pred[..., 0:2] = rng.uniform(0, input_size, (3, rows, 2))
    pred[..., 2:4] = rng.uniform(4, 120, (3, rows, 2))
    pred[..., 4] = rng.uniform(0, 0.09, (3, rows))                      # below the threshold
    pred[..., 5:] = rng.uniform(0, 0.6, (3, rows, classes))
    row = 0
    for frame in (0, 1):
        for _ in range(6):                                              # clusters of 12 jittered boxes
            centre, size = rng.uniform(60, input_size - 60, 2), rng.uniform(30, 150, 2)
            for _ in range(12):
                pred[frame, row, 0:2] = centre + rng.normal(0, 0.08, 2) * size
                pred[frame, row, 2:4] = size * rng.uniform(0.8, 1.25, 2)
                pred[frame, row, 4] = rng.uniform(0.1, 1.0)
                pred[frame, row, 5] = rng.uniform(0.6, 1.0)             # person most likely
                row += 1
        for _ in range(20):                                             # confident, another class
            pred[frame, row, 4] = rng.uniform(0.5, 1.0)
            pred[frame, row, 5 + rng.integers(1, classes)] = 0.99
            row += 1
    for i in range(130):                                                # frame 2: 130 pairs on a grid
        cx, cy = 12 + 24 * (i % 13), 12 + 30 * (i // 13)
        for j, dx in enumerate((0.0, 17.0 / 3.0)):                     # twin shifted: IoU (21 - dx) / (21 + dx)
            pred[2, row, 0:4] = (cx + dx, cy, 20.0, 20.0)
            pred[2, row, 4] = 0.95 - 0.001 * i - 0.0005 * j
            pred[2, row, 5] = 0.8
            row += 1
    return pred


def _module(name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def load_upstream(upstream: Path, build_dir: Path) -> types.SimpleNamespace:
    """Upstream's YOLO detector modules, with the stand-ins listed in the module docstring."""
    from torch.utils.cpp_extension import load

    build_dir.mkdir(parents=True, exist_ok=True)
    nms_cpu = load("nms_cpu", [str(upstream / "detector" / "nms" / "src" / "nms_cpu.cpp")],
                   build_directory=str(build_dir), verbose=False)
    sys.modules["detector.nms.nms_cpu"] = nms_cpu
    _module("detector.nms.nms_cuda")
    _module("detector.nms.soft_nms_cpu", soft_nms_cpu=None)

    class EasyDict(dict):
        __getattr__ = dict.__getitem__

        def __setattr__(self, key, value):
            self[key] = value

    _module("easydict", EasyDict=EasyDict)
    sys.path.insert(0, str(upstream))
    import detector.yolo_api as yolo_api
    import detector.yolo_cfg as yolo_cfg

    return types.SimpleNamespace(api=yolo_api, cfg=yolo_cfg.cfg, Darknet=yolo_api.Darknet)


def main() -> None:
    from upstream_fixture import fixture_parser, parse_fixture_arguments

    parser = fixture_parser(__doc__, "checkout or archive of MVIG-SJTU/AlphaPose", "its commit", DEFAULT_OUT)
    parser.add_argument("--build-dir", type=Path, default=Path("/tmp/alphapose-nms-build"),
                        help="where upstream's nms_cpu.cpp is compiled")
    args, upstream = parse_fixture_arguments(parser)
    torch.set_num_threads(2)
    up = load_upstream(upstream, args.build_dir.resolve())
    args.out.mkdir(parents=True, exist_ok=True)

    model = up.Darknet(str(upstream / CFG))
    layout = []
    for block, module in zip(model.blocks[1:], model.module_list):
        if block["type"] == "convolutional":
            conv = module[0]
            layout.append([conv.in_channels, conv.out_channels, conv.kernel_size[0], conv.stride[0],
                           "batch_normalize" in block])
    parameters = int(sum(p.numel() for p in model.parameters()))
    values = generated_values(layout)
    weights_file = args.build_dir / "yolov3-spp-generated.weights"
    with open(weights_file, "wb") as out:                  # darknet's layout: 3 x int32, int64 seen (v0.2), floats
        out.write(np.array(HEADER[:3], "<i4").tobytes() + np.array(HEADER[3:], "<i8").tobytes() + values.tobytes())
    model.load_weights(str(weights_file))                  # upstream's own loader
    model.net_info["height"] = INPUT_SIZE
    model.eval()
    log.info("%d convolutions, %d parameters, %d values, file %d bytes", len(layout), parameters, len(values),
             weights_file.stat().st_size)

    opt = types.SimpleNamespace(device="cpu", gpus=[-1], tracking=False)
    detector = up.api.YOLODetector(up.cfg, opt)
    detector.model, detector.inp_dim, detector.confidence = model, INPUT_SIZE, CONFIDENCE
    assert detector.nms_thres == NMS_THRESHOLD, detector.nms_thres

    raw: dict[int, torch.Tensor] = {}
    outputs = [i for i, b in enumerate(model.blocks[1:]) if b["type"] == "yolo"]
    hooks = [model.module_list[i - 1].register_forward_hook(lambda m, inp, out, i=i: raw.__setitem__(i, out.clone()))
             for i in outputs]
    record: dict[str, np.ndarray] = {}
    frame = synthetic_frame()
    with torch.no_grad():
        img = detector.image_preprocess(frame)             # prep_frame: letterbox, BGR -> RGB, / 255
        rgb = np.round(img[0].permute(1, 2, 0).numpy() * 255)
        assert np.abs(rgb / 255 - img[0].permute(1, 2, 0).numpy()).max() < 1e-6
        prediction = model(img, args=opt)                  # (1, rows, 85), predict_transform applied
        dims = torch.FloatTensor([[frame.shape[1], frame.shape[0]]]).repeat(1, 2)
        dets = detector.images_detection(img, dims)
    for hook in hooks:
        hook.remove()
    out32, out16, out8 = (raw[i] for i in outputs)
    rng = np.random.default_rng(3)
    record.update({"frame": frame, "input_rgb": rgb.astype(np.uint8), "raw32": out32.numpy()})
    for name, out in (("16", out16), ("8", out8)):
        flat = out.numpy().reshape(-1)
        index = np.sort(rng.choice(flat.size, SAMPLES, replace=False))
        record.update({f"sum{name}": out.numpy().astype(np.float64).sum(axis=(0, 2, 3)), f"index{name}": index,
                       f"sample{name}": flat[index]})
    pred = prediction[0].numpy()
    candidates = np.flatnonzero((pred[:, 4] > CONFIDENCE) & (pred[:, 5:].argmax(axis=1) == 0))
    record.update({"prediction5": pred[:, :5], "class_sums": pred[:, 5:].astype(np.float64).sum(axis=0),
                   "person_index": candidates, "person_rows": pred[candidates],
                   "dets": np.zeros((0, 8), np.float32) if isinstance(dets, int) else dets.numpy()})
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        log.info("objectness > %.1f: %d person candidates", threshold,
                 int(((pred[:, 4] > threshold) & (pred[:, 5:].argmax(axis=1) == 0)).sum()))
    log.info("outputs %s; %d person candidates, %d detections; objectness quantiles %s", [tuple(o.shape) for o in
             (out32, out16, out8)], len(candidates), len(record["dets"]),
             np.quantile(pred[:, 4], [0.5, 0.9, 0.99, 1.0]).round(3))

    # post-processing alone: upstream's images_detection on given predictions (its model a stand-in returning them)
    synthetic = synthetic_prediction()
    detector.confidence = POST_CONFIDENCE
    record["post:dims"] = np.array(POST_DIMS, np.float32)
    for i, (w, h) in enumerate(POST_DIMS):
        detector.model = lambda imgs, args, i=i: torch.from_numpy(synthetic[i:i + 1]).clone()
        found = detector.images_detection(torch.zeros(1, 3, 32, 32), torch.FloatTensor([[w, h]]).repeat(1, 2))
        record[f"post:dets{i}"] = np.zeros((0, 8), np.float32) if isinstance(found, int) else found.numpy()
        log.info("synthetic frame %d (%d x %d): %d detections", i, w, h, len(record[f"post:dets{i}"]))
    np.savez_compressed(args.out / "yolov3_spp.npz", **record)

    command = ".venv/bin/python scripts/make_yolo_fixture.py " + shlex.join(sys.argv[1:])
    (args.out / "yolo_fixture.json").write_text(json.dumps({
        "upstream": "https://github.com/MVIG-SJTU/AlphaPose", "upstream_commit": args.upstream_commit,
        "command": command, "python": platform.python_version(), "torch": torch.__version__,
        "numpy": np.__version__, "cfg": CFG, "input_size": INPUT_SIZE, "confidence": CONFIDENCE,
        "post_confidence": POST_CONFIDENCE, "nms_threshold": NMS_THRESHOLD, "header": HEADER,
        "upstream_defaults": {k: up.cfg[k] for k in ("INP_DIM", "NMS_THRES", "CONFIDENCE", "NUM_CLASSES")},
        "stand_ins": "detector.nms.nms_cpu compiled here from upstream's detector/nms/src/nms_cpu.cpp "
                     "(torch.utils.cpp_extension); detector.nms.nms_cuda and detector.nms.soft_nms_cpu empty "
                     "modules (CUDA / Cython, unused on the CPU by the YOLO detector); easydict.EasyDict a dict with "
                     "attribute access (not installed); for the post:* records, YOLODetector.model a function "
                     "returning the synthetic predictions",
        "parameters": parameters, "values": int(len(values)), "weights_file_bytes": int(weights_file.stat().st_size),
        "layout": layout, "layer_sums": layer_sums(layout, values),
    }, indent=0) + "\n")
    weights_file.unlink()
    log.info("fixtures written to %s", args.out)


if __name__ == "__main__":
    main()
