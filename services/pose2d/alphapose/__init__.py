"""AlphaPose's FastPose (Fang et al. 2022, TPAMI; upstream code and weights non-commercial only) as a
pose2d backend, written for this project (MIT).

- fastpose.py: the FastPose network (SE-ResNet, DUC upsampling), checkpoint-compatible with upstream's.
- configs.py: the released configurations and checkpoint files (no PyTorch needed).
- checkpoints.py: strict loading of upstream's checkpoint files.
- inference.py: upstream's top-down inference (box enlargement, affine crops, flip test, heatmap decoding), batched.
- yolo.py: YOLOv3-SPP, upstream's person detector (Darknet-53, SPP, three outputs), and the darknet weights loader.
- detector.py: upstream's YOLO detection (letterbox, decoding, person filter, NMS, boxes back to the frame), batched.
- backend.py: the pose2d backend (the walker found by BlazePose; its boxes from YOLOv3-SPP when present; metadata).
"""
