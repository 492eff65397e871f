"""What the stages agree on, in one place: the steps and stages by name, each stage's version (part
of every cache key: raise it when a stage's output changes), the bundle files one stage writes and
another reads, and where `gait run` exports each stage's bundle."""
from __future__ import annotations

VIDEO = "video"          # an ingested video, keyed by its content
RECORDING = "recording"  # an ingested motion-capture file, keyed by its content
ROTATE, POSE2D, LIFT3D, ANALYSIS = "rotate", "pose2d", "lift3d", "analysis"
STAGES = (ROTATE, POSE2D, LIFT3D, ANALYSIS)
INGEST, EXPORT = "ingest", "export"
STEPS = (INGEST, *STAGES, EXPORT)  # what a run shows, in order

STAGE_VERSIONS = {ROTATE: "4", POSE2D: "3", LIFT3D: "1", ANALYSIS: "34"}
INGEST_VERSION = "1"

# rotate
UPRIGHT_VIDEO = "upright.mp4"
DETECTION_PROXY = "proxy.mp4"
VIDEO_FACTS = "video.json"
# pose2d
KEYPOINTS_2D = "keypoints2d.npy"
BLAZEPOSE_WORLD = "blazepose_world.npy"
SUBJECT = "subject.json"
OVERLAY = "overlay.mp4"
DEIDENTIFIED_UPRIGHT = "upright_deidentified.mp4"  # rotate's upright.mp4 with every head blurred (the default)
# lift3d
KEYPOINTS_3D = "X3D.npy"  # MotionBERT's name for it
FEET_3D = "feet3d.npy"
CONFIDENCE_3D = "confidence3d.npy"
# analysis
ANALYSIS_SUMMARY = "analysis.json"

EXPORT_FOLDERS = {ROTATE: "video", POSE2D: "alphapose-results", LIFT3D: "results", ANALYSIS: "analysis"}
# Files that leave the store under another folder and name (see gait/export.py: the de-identified
# upright video stands in for rotate's), and files that never leave it.
EXPORT_AS = {(POSE2D, DEIDENTIFIED_UPRIGHT): (ROTATE, UPRIGHT_VIDEO)}
STORE_ONLY = {(ROTATE, DETECTION_PROXY)}
