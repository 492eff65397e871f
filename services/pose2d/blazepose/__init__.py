"""BlazePose GHUM full with ai-edge-litert: person detection, landmarks, tracking, subject choice."""
from services.pose2d.blazepose.detector import Detection, PoseDetector
from services.pose2d.blazepose.estimator import (
    BlazePoseEstimator,
    BlazePoseModels,
    EstimationCancelled,
    NoPersonFound,
    SubjectChoice,
    SubjectPose,
)
from services.pose2d.blazepose.landmarker import FramePose, PoseLandmarker
from services.pose2d.blazepose.roi import Roi

__all__ = ["BlazePoseEstimator", "BlazePoseModels", "Detection", "EstimationCancelled", "FramePose", "NoPersonFound",
           "PoseDetector", "PoseLandmarker", "Roi", "SubjectChoice", "SubjectPose"]
