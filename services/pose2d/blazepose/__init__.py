"""BlazePose GHUM full with ai-edge-litert: detection, landmarks, tracking, subject choice."""
from services.pose2d.blazepose.estimator import (
    BlazePoseEstimator,
    BlazePoseModels,
    EstimationCancelled,
    NoPersonFound,
    SubjectChoice,
    SubjectPose,
)
from services.pose2d.blazepose.landmarker import FramePose

__all__ = ["BlazePoseEstimator", "BlazePoseModels", "EstimationCancelled", "FramePose", "NoPersonFound",
           "SubjectChoice", "SubjectPose"]
