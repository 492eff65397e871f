"""AlphaPose's YOLOv3-SPP detector against upstream (generated weights, recorded by scripts/make_yolo_fixture.py),
the darknet weights loader, letterbox geometry, NMS, and the AlphaPose backend's use of the detector's boxes."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from scripts.make_yolo_fixture import generated_values, layer_sums, synthetic_prediction
from services.pose2d.alphapose import detector as det
from services.pose2d.alphapose.backend import box_iou, choose_boxes
from services.pose2d.alphapose.configs import CHECKPOINTS, DETECTOR
from services.pose2d.alphapose.yolo import (
    DarknetWeightsError,
    YOLOv3SPP,
    darknet_layout,
    darknet_value_count,
    load_darknet_weights,
    read_darknet_weights,
    write_darknet_weights,
)
from tests.recorded import recorded_arrays, recorded_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "yolo"


yolo_info = recorded_json(FIXTURES / "yolo_fixture.json", scope="module")
yolo_recording = recorded_arrays(FIXTURES / "yolov3_spp.npz", scope="module")


@pytest.fixture(scope="module")
def yolo_weights_file(tmp_path_factory, yolo_info) -> Path:
    """A models folder's alphapose/yolov3-spp.weights holding the fixture's generated weights (252 MB, as the real file)."""
    values = generated_values(yolo_info["layout"])
    drift = np.flatnonzero(~np.isclose(layer_sums(yolo_info["layout"], values), yolo_info["layer_sums"], rtol=1e-6, atol=1e-6))
    assert not len(drift), f"generated weights differ from the recorded ones (numpy's generator changed?): layers {drift[:5]}"
    path = tmp_path_factory.mktemp("yolo-models") / DETECTOR.path
    path.parent.mkdir(parents=True)
    write_darknet_weights(values, path, tuple(yolo_info["header"]))
    return path


@pytest.fixture(scope="module")
def yolo_model(yolo_weights_file) -> YOLOv3SPP:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    return load_darknet_weights(YOLOv3SPP(), yolo_weights_file).eval()


def test_fixture_records_upstream_commit_and_command(yolo_info):
    assert len(yolo_info["upstream_commit"]) == 40
    assert "scripts/make_yolo_fixture.py" in yolo_info["command"]
    assert yolo_info["upstream_defaults"] == {"INP_DIM": det.INPUT_SIZE, "NMS_THRES": det.NMS_THRESHOLD,
                                              "CONFIDENCE": det.CONFIDENCE, "NUM_CLASSES": 80}
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 1_500_000


def test_layout_is_upstream_cfg(yolo_info, yolo_weights_file):
    """Our convolutions, in creation order, are the cfg's (so darknet's file loads in sequence)."""
    model = YOLOv3SPP()
    assert [list(layer) for layer in darknet_layout(model)] == yolo_info["layout"]
    assert sum(p.numel() for p in model.parameters()) == yolo_info["parameters"]
    assert darknet_value_count(model) == yolo_info["values"]
    assert yolo_weights_file.stat().st_size == yolo_info["weights_file_bytes"] == 20 + 4 * yolo_info["values"]
    header, values = read_darknet_weights(yolo_weights_file)
    assert header == tuple(yolo_info["header"]) and len(values) == yolo_info["values"]


def test_network_matches_upstream(yolo_model, yolo_recording, yolo_info):
    """Raw outputs within 1e-4 of each output's largest magnitude; decoded rows within 1e-4 relative."""
    rec = yolo_recording
    size = yolo_info["input_size"]
    canvas = det.letterbox(rec["frame"], size)
    np.testing.assert_array_equal(canvas[..., ::-1], rec["input_rgb"])              # upstream's prep_frame, exactly
    with torch.no_grad():
        out32, out16, out8 = yolo_model(det.network_input(canvas[None]))
    scale = float(np.abs(rec["raw32"]).max())
    np.testing.assert_allclose(out32.numpy(), rec["raw32"], rtol=0, atol=1e-4 * scale)
    for name, out in (("16", out16), ("8", out8)):
        flat = out.numpy().reshape(-1)
        scale = float(np.abs(rec[f"sample{name}"]).max())
        np.testing.assert_allclose(flat[rec[f"index{name}"]], rec[f"sample{name}"], rtol=0, atol=1e-4 * scale)
        positions = out.shape[2] * out.shape[3]
        np.testing.assert_allclose(out.double().sum(dim=(0, 2, 3)).numpy(), rec[f"sum{name}"], rtol=0,
                                   atol=1e-4 * scale * positions ** 0.5)
    prediction = det.decode((out32, out16, out8), size)[0].numpy()
    assert prediction.shape == (3 * (10 * 10 + 20 * 20 + 40 * 40), 85)
    np.testing.assert_allclose(prediction[:, :5], rec["prediction5"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(prediction[:, 5:].astype(np.float64).sum(axis=0), rec["class_sums"], rtol=1e-5)
    candidates = np.flatnonzero((prediction[:, 4] > yolo_info["confidence"]) & (prediction[:, 5:].argmax(axis=1) == 0))
    np.testing.assert_array_equal(candidates, rec["person_index"])
    np.testing.assert_allclose(prediction[candidates], rec["person_rows"], rtol=1e-4, atol=1e-5)


def test_detector_matches_upstream(yolo_model, yolo_recording, yolo_info):
    """Letterbox, network, decoding, person filter, NMS and mapping back: upstream's boxes, two frames per pass."""
    rec = yolo_recording
    yolo = det.YOLODetector(yolo_model, input_size=yolo_info["input_size"], confidence=yolo_info["confidence"],
                            device="cpu", batch_size=2)
    frame = rec["frame"]
    found = yolo.detect([frame, np.ascontiguousarray(frame[:, ::-1])])
    expected = rec["dets"]
    assert 10 < len(expected) < 100 and (expected[:, 0] == 0).all() and (expected[:, 7] == 0).all()
    assert found[0].shape == (len(expected), 6)
    np.testing.assert_allclose(found[0][:, :4], expected[:, 1:5], rtol=1e-4, atol=1e-3)    # frame pixels
    np.testing.assert_allclose(found[0][:, 4:], expected[:, 5:7], rtol=0, atol=1e-5)       # objectness, person score
    assert (found[0][:, [0, 2]] >= 0).all() and (found[0][:, [0, 2]] <= frame.shape[1]).all()
    assert (found[0][:, [1, 3]] >= 0).all() and (found[0][:, [1, 3]] <= frame.shape[0]).all()
    assert found[1].ndim == 2 and found[1].shape[1] == 6                                    # the mirrored frame: its own


def test_postprocessing_matches_upstream(yolo_recording, yolo_info):
    """Upstream's write_results (+ dynamic NMS) and images_detection's mapping on synthetic decoded predictions."""
    prediction = torch.from_numpy(synthetic_prediction())
    dims = yolo_recording["post:dims"]
    batched = det.person_boxes(prediction, yolo_info["post_confidence"], yolo_info["nms_threshold"])
    for i, (width, height) in enumerate(dims):
        expected = yolo_recording[f"post:dets{i}"]
        alone = det.person_boxes(prediction[i:i + 1], yolo_info["post_confidence"], yolo_info["nms_threshold"])[0]
        assert torch.equal(alone, batched[i])                       # a frame's boxes do not depend on its batch
        ours = det.to_frame(alone, int(width), int(height), yolo_info["input_size"]).numpy()
        assert ours.shape == (len(expected), 6), i
        np.testing.assert_allclose(ours[:, :4], expected[:, 1:5], rtol=0, atol=1e-4)
        np.testing.assert_allclose(ours[:, 4:], expected[:, 5:7], rtol=0, atol=1e-6)
    assert len(yolo_recording["post:dets2"]) == 130                 # 260 at NMS 0.6 (> 100), so 0.55: the twins go


def _greedy_reference(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """nms_cpu.cpp, written out: by descending score, drop later boxes with pixel IoU >= threshold."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    suppressed, kept = set(), []
    for a, i in enumerate(order):
        if i in suppressed:
            continue
        kept.append(i)
        for j in order[a + 1:]:
            x1, y1 = max(boxes[i][0], boxes[j][0]), max(boxes[i][1], boxes[j][1])
            x2, y2 = min(boxes[i][2], boxes[j][2]), min(boxes[i][3], boxes[j][3])
            inter = max(0.0, x2 - x1 + 1) * max(0.0, y2 - y1 + 1)
            area = lambda b: (b[2] - b[0] + 1) * (b[3] - b[1] + 1)  # noqa: E731
            if inter / (area(boxes[i]) + area(boxes[j]) - inter) >= threshold:
                suppressed.add(j)
    return kept


@pytest.mark.parametrize("threshold", [0.3, 0.6])
def test_nms_is_upstream_greedy(threshold, monkeypatch):
    rng = np.random.default_rng(int(threshold * 10))
    xy = rng.uniform(0, 200, (300, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 60, (300, 2))], axis=1).astype(np.float32)
    scores = rng.permutation(300).astype(np.float32) / 300
    expected = _greedy_reference(boxes.astype(np.float64), scores, threshold)
    dense = det.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist()
    assert dense == expected and 10 < len(expected) < 300
    monkeypatch.setattr(det, "DENSE_NMS_LIMIT", 0)                  # the row-by-row path for many boxes
    assert det.nms(torch.from_numpy(boxes), torch.from_numpy(scores), threshold).tolist() == expected


def test_nms_counts_whole_pixels_and_suppresses_at_the_threshold():
    boxes = torch.tensor([[0.0, 0.0, 9.0, 9.0], [0.0, 0.0, 9.0, 4.0]])     # 10 x 10 and 10 x 5 pixels: IoU 0.5
    scores = torch.tensor([0.9, 0.8])
    assert float(det.pixel_iou(boxes[:1], boxes[1:])) == 0.5
    assert det.nms(boxes, scores, 0.5).tolist() == [0]
    assert det.nms(boxes, scores, 0.51).tolist() == [0, 1]
    assert det.nms(torch.zeros((0, 4)), torch.zeros(0), 0.5).tolist() == []


@pytest.mark.parametrize("width, height", [(300, 200), (640, 480), (480, 640), (1920, 1080), (90, 1000)])
def test_letterbox_geometry_round_trip(width, height):
    size = 320
    new_w, new_h, left, top = det.letterbox_geometry(width, height, size)
    assert max(new_w, new_h) == size and abs(new_w / new_h - width / height) < 2 / min(new_w, new_h)
    frame = np.full((height, width, 3), 30, np.uint8)
    frame[height // 4:height // 2, width // 3:width // 2] = 250
    canvas = det.letterbox(frame, size)
    assert canvas.shape == (size, size, 3) and canvas.dtype == np.uint8
    assert (canvas[:top] == 128).all() and (canvas[top + new_h:] == 128).all()
    assert (canvas[:, :left] == 128).all() and (canvas[:, left + new_w:] == 128).all()
    ratio = min(size / width, size / height)
    bright = np.argwhere(canvas[..., 0] > 200)                      # the bright patch lands where the scale says
    np.testing.assert_allclose(bright.min(axis=0), [top + height // 4 * ratio, left + width // 3 * ratio], atol=2)
    boxes = np.array([[0, 0, width, height], [width * 0.3, height * 0.1, width * 0.6, height * 0.9]], np.float32)
    scale = np.float32(ratio)
    pad = (size - scale * np.array([width, height], np.float32)) / 2
    in_input = boxes * scale + np.tile(pad, 2)
    back = det.to_frame(torch.from_numpy(np.concatenate([in_input, np.ones((2, 2), np.float32)], axis=1)),
                        width, height, size).numpy()
    np.testing.assert_allclose(back[:, :4], boxes, atol=1e-3 * max(width, height))
    outside = torch.tensor([[-50.0, -50.0, size + 50.0, size + 50.0, 1, 1]])
    np.testing.assert_allclose(det.to_frame(outside, width, height, size)[0, :4].numpy(), [0, 0, width, height])


def test_network_input_is_rgb_in_unit_range():
    canvas = np.zeros((1, 32, 32, 3), np.uint8)
    canvas[..., 0] = 255                                              # blue in BGR
    x = det.network_input(canvas)
    assert x.shape == (1, 3, 32, 32) and float(x[0, 2].min()) == 1.0 and float(x[0, :2].max()) == 0.0


def test_decode_orders_rows_by_output_cell_and_anchor():
    outputs = tuple(torch.zeros(1, 3 * 85, g, g) for g in (2, 4, 8))
    outputs[1][0, 85 * 2 + 4, 1, 3] = 10.0                          # stride-16 output, anchor 2, row 1, column 3
    rows = det.decode(outputs, 64)[0]
    assert rows.shape == (3 * (4 + 16 + 64), 85)
    index = 3 * 4 + (1 * 4 + 3) * 3 + 2
    assert int(rows[:, 4].argmax()) == index
    np.testing.assert_allclose(rows[index, :4].numpy(), [(0.5 + 3) * 16, (0.5 + 1) * 16, 59, 119])  # anchor 5: (59, 119)


def test_weights_file_that_does_not_fit_is_refused_whole(tmp_path):
    model = YOLOv3SPP()
    before = model.backbone.stem.conv.weight.clone()
    path = tmp_path / "short.weights"
    write_darknet_weights(np.ones(1000, np.float32), path)
    with pytest.raises(DarknetWeightsError, match=f"holds 1000 float32 values .* needs {darknet_value_count(model)} "
                                                  r"\(too few"):
        load_darknet_weights(model, path)
    assert torch.equal(model.backbone.stem.conv.weight, before)                # nothing loaded
    path.write_bytes(path.read_bytes() + b"xy")
    with pytest.raises(DarknetWeightsError, match="not a darknet weights file"):
        load_darknet_weights(model, path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_darknet_weights(tmp_path / "absent.weights")
    old = tmp_path / "old.weights"                                    # before version 0.2: a 32-bit `seen`
    write_darknet_weights(np.arange(10, dtype=np.float32), old, (0, 1, 0, 7))
    assert old.stat().st_size == 16 + 40
    header, values = read_darknet_weights(old)
    assert header == (0, 1, 0, 7) and values.tolist() == list(range(10))


def test_bad_inputs_are_named():
    model = YOLOv3SPP()
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
        model(torch.zeros(3, 64, 64))
    with pytest.raises(ValueError, match="multiples of 32"):
        model(torch.zeros(1, 3, 70, 64))
    with pytest.raises(ValueError, match="multiple of 32"):
        det.YOLODetector(model, input_size=600, device="cpu")


def test_choose_boxes_prefers_the_best_overlap_and_falls_back():
    subject = np.array([[100, 50, 160, 250], [100, 50, 160, 250], [np.nan] * 4, [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.0, 0.7], np.float32)
    detections = [np.array([[300, 50, 360, 250, 0.9, 0.95], [95, 40, 165, 255, 0.8, 0.85],
                            [90, 40, 200, 255, 0.99, 0.99]], np.float32),      # the 2nd overlaps best
                  np.array([[150, 50, 210, 250, 0.9, 0.9]], np.float32),      # IoU 10 / 110: too low
                  np.array([[100, 50, 160, 250, 0.9, 0.9]], np.float32),      # no subject in this frame
                  np.zeros((0, 6), np.float32)]
    boxes, chosen, matched = choose_boxes(subject, scores, detections, min_iou=0.3)
    assert matched.tolist() == [True, False, False, False]
    np.testing.assert_array_equal(boxes[0], [95, 40, 165, 255])
    np.testing.assert_array_equal(boxes[1], subject[1])
    assert np.isnan(boxes[2]).all()
    np.testing.assert_allclose(chosen, [0.85, 0.8, 0.0, 0.7])
    np.testing.assert_allclose(box_iou(subject[:1], detections[1][:, :4]), [[10 * 200 / (110 * 200)]])


@pytest.fixture(scope="module")
def models_with_detector(tmp_path_factory, halpe_checkpoint_dir, yolo_weights_file) -> Path:
    root = tmp_path_factory.mktemp("alphapose-with-yolo")
    for path in (CHECKPOINTS[0].path, DETECTOR.path):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(halpe_checkpoint_dir / CHECKPOINTS[0].path, root / CHECKPOINTS[0].path)
    os.symlink(yolo_weights_file, root / DETECTOR.path)
    return root


def test_backend_uses_the_detector_boxes(tmp_path, models_with_detector, monkeypatch):
    """With the weights present: the version names the detector; YOLO's box where it overlaps BlazePose's
    subject box, BlazePose's where not (counted); the real network runs at a small input size."""
    from services.pose2d.alphapose.backend import AlphaPoseBackend
    from services.pose2d.protocol import Pose2DResult

    video = tmp_path / "walk.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(3):
        frame = np.full((240, 320, 3), 90, np.uint8)
        cv2.rectangle(frame, (120 + 10 * i, 60), (160 + 10 * i, 200), (40, 70, 150), -1)
        writer.write(frame)
    writer.release()
    backend = AlphaPoseBackend(root=models_with_detector, device="cpu", flip=False, batch_size=2, detector_size=64)
    assert backend.detector is not None and backend.detector.input_size == 64
    assert backend.version.startswith("halpe26_fast_res50_256x192-") and "+yolov3-spp-" in backend.version
    assert AlphaPoseBackend.cache_version(models_with_detector) == backend.version
    boxes = np.array([[110 + 10 * i, 25, 170 + 10 * i, 205] for i in range(3)], np.float32)
    boxes[1] = np.nan
    scores = np.array([0.9, 0.0, 0.8], np.float32)

    def person_boxes(video, fps, should_continue, proxy):
        source = Pose2DResult(keypoints=np.zeros((3, 26, 3), np.float32), scores=scores, boxes=boxes,
                              subject={"track_id": 4, "reason": "the only walker", "candidates": []},
                              world=np.zeros((3, 33, 4), np.float32))
        return boxes, scores, source

    monkeypatch.setattr(backend, "person_boxes", person_boxes)
    monkeypatch.setattr("services.pose2d.alphapose.inference.NMS_SCORE_THRESHOLD", -1.0)
    calls = []
    real_detect = backend.detector.detect

    def detect(frames):
        calls.append(len(frames))
        real = real_detect(frames)                                   # the network itself runs (random weights)
        assert len(real) == len(frames) and all(r.ndim == 2 and r.shape[1] == 6 for r in real)
        return [np.array([[105, 20, 172, 210, 0.9, 0.77]], np.float32), np.zeros((0, 6), np.float32)]

    monkeypatch.setattr(backend.detector, "detect", detect)
    result = backend.estimate(video, 25.0, None, lambda: True)
    assert calls == [2]                                              # only the frames with the subject
    np.testing.assert_allclose(result.boxes[0], [105, 20, 67, 190])  # YOLO's box (x, y, w, h)
    np.testing.assert_allclose(result.boxes[2], [130, 25, 60, 180])  # BlazePose's (no YOLO box there)
    assert np.isnan(result.boxes[1]).all() and result.scores[1] == 0
    notes = result.notes
    assert notes["person_box_fallback_frames"] == 1 and "1 of 2 frames" in notes["person_boxes"]
    assert "YOLOv3-SPP" in notes["person_boxes"] and "non-commercial" in notes["detector"]
    assert result.keypoints.shape == (3, 26, 3)


def test_backend_without_detector_says_so(halpe_checkpoint_dir):
    from services.pose2d.alphapose.backend import AlphaPoseBackend

    backend = AlphaPoseBackend(root=halpe_checkpoint_dir, device="cpu")
    assert backend.detector is None and "+" not in backend.version
    assert AlphaPoseBackend.cache_version(halpe_checkpoint_dir) == backend.version


def test_wrong_detector_file_is_refused(tmp_path, halpe_checkpoint_dir):
    from gait.errors import ModelMissing
    from services.pose2d.alphapose.backend import AlphaPoseBackend

    (tmp_path / "alphapose").mkdir()
    os.symlink(halpe_checkpoint_dir / CHECKPOINTS[0].path, tmp_path / CHECKPOINTS[0].path)
    write_darknet_weights(np.zeros(100, np.float32), tmp_path / DETECTOR.path)
    with pytest.raises(ModelMissing, match="does not fit YOLOv3-SPP"):
        AlphaPoseBackend(root=tmp_path, device="cpu")


def test_outputs_depend_on_the_weights(yolo_model, yolo_recording):
    """Guards the parity test itself: a changed weight changes the outputs beyond the tolerance."""
    canvas = det.letterbox(yolo_recording["frame"], 320)
    block = yolo_model.backbone.stages[4][1].expand
    original = block.bn.weight.detach().clone()
    try:
        with torch.no_grad():
            block.bn.weight[:16] *= 1.5
            out32 = yolo_model(det.network_input(canvas[None]))[0].numpy()
    finally:
        with torch.no_grad():
            block.bn.weight.copy_(original)
    assert np.abs(out32 - yolo_recording["raw32"]).max() > 1e-2 * np.abs(yolo_recording["raw32"]).max()


def test_gait_models_lists_and_verifies_the_detector(models_with_detector, monkeypatch):
    from gaitcli.model_report import report

    monkeypatch.setenv("GAIT_MODELS_DIR", str(models_with_detector))
    lines, all_right = report(deep=True)
    text = "\n".join(lines)
    assert all_right, text
    assert "alphapose-yolov3-spp [pose2d person boxes]: usable" in text and f"{DETECTOR.path}: ok" in text
    assert "non-commercial" in text.split("alphapose-yolov3-spp", 1)[1]
