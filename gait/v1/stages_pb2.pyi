from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StageOutcome(_message.Message):
    __slots__ = ("bundle_key", "cached", "seconds", "backend")
    BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    bundle_key: str
    cached: bool
    seconds: float
    backend: str
    def __init__(self, bundle_key: _Optional[str] = ..., cached: _Optional[bool] = ..., seconds: _Optional[float] = ..., backend: _Optional[str] = ...) -> None: ...

class RotateRequest(_message.Message):
    __slots__ = ("video_key", "rotation_deg", "cached_only")
    VIDEO_KEY_FIELD_NUMBER: _ClassVar[int]
    ROTATION_DEG_FIELD_NUMBER: _ClassVar[int]
    CACHED_ONLY_FIELD_NUMBER: _ClassVar[int]
    video_key: str
    rotation_deg: int
    cached_only: bool
    def __init__(self, video_key: _Optional[str] = ..., rotation_deg: _Optional[int] = ..., cached_only: _Optional[bool] = ...) -> None: ...

class RotateResponse(_message.Message):
    __slots__ = ("outcome", "rotation_applied_deg", "frames", "fps", "width", "height", "duration_s")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ROTATION_APPLIED_DEG_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    outcome: StageOutcome
    rotation_applied_deg: int
    frames: int
    fps: float
    width: int
    height: int
    duration_s: float
    def __init__(self, outcome: _Optional[_Union[StageOutcome, _Mapping]] = ..., rotation_applied_deg: _Optional[int] = ..., frames: _Optional[int] = ..., fps: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., duration_s: _Optional[float] = ...) -> None: ...

class Pose2DRequest(_message.Message):
    __slots__ = ("video_bundle_key", "backend", "min_detection_score", "skip_overlay", "skip_deidentify", "cached_only")
    VIDEO_BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MIN_DETECTION_SCORE_FIELD_NUMBER: _ClassVar[int]
    SKIP_OVERLAY_FIELD_NUMBER: _ClassVar[int]
    SKIP_DEIDENTIFY_FIELD_NUMBER: _ClassVar[int]
    CACHED_ONLY_FIELD_NUMBER: _ClassVar[int]
    video_bundle_key: str
    backend: str
    min_detection_score: float
    skip_overlay: bool
    skip_deidentify: bool
    cached_only: bool
    def __init__(self, video_bundle_key: _Optional[str] = ..., backend: _Optional[str] = ..., min_detection_score: _Optional[float] = ..., skip_overlay: _Optional[bool] = ..., skip_deidentify: _Optional[bool] = ..., cached_only: _Optional[bool] = ...) -> None: ...

class Pose2DResponse(_message.Message):
    __slots__ = ("outcome", "frames", "detection_rate", "subject_track", "subject_reason", "frames_per_second")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    DETECTION_RATE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_TRACK_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    outcome: StageOutcome
    frames: int
    detection_rate: float
    subject_track: int
    subject_reason: str
    frames_per_second: float
    def __init__(self, outcome: _Optional[_Union[StageOutcome, _Mapping]] = ..., frames: _Optional[int] = ..., detection_rate: _Optional[float] = ..., subject_track: _Optional[int] = ..., subject_reason: _Optional[str] = ..., frames_per_second: _Optional[float] = ...) -> None: ...

class Lift3DRequest(_message.Message):
    __slots__ = ("pose2d_bundle_key", "backend", "cached_only")
    POSE2D_BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    CACHED_ONLY_FIELD_NUMBER: _ClassVar[int]
    pose2d_bundle_key: str
    backend: str
    cached_only: bool
    def __init__(self, pose2d_bundle_key: _Optional[str] = ..., backend: _Optional[str] = ..., cached_only: _Optional[bool] = ...) -> None: ...

class Lift3DResponse(_message.Message):
    __slots__ = ("outcome", "frames", "valid_fraction")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    VALID_FRACTION_FIELD_NUMBER: _ClassVar[int]
    outcome: StageOutcome
    frames: int
    valid_fraction: float
    def __init__(self, outcome: _Optional[_Union[StageOutcome, _Mapping]] = ..., frames: _Optional[int] = ..., valid_fraction: _Optional[float] = ...) -> None: ...

class AnalysisRequest(_message.Message):
    __slots__ = ("pose2d_bundle_key", "lift3d_bundle_key", "cutoff_hz", "filter_order", "cached_only")
    POSE2D_BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    LIFT3D_BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    FILTER_ORDER_FIELD_NUMBER: _ClassVar[int]
    CACHED_ONLY_FIELD_NUMBER: _ClassVar[int]
    pose2d_bundle_key: str
    lift3d_bundle_key: str
    cutoff_hz: float
    filter_order: int
    cached_only: bool
    def __init__(self, pose2d_bundle_key: _Optional[str] = ..., lift3d_bundle_key: _Optional[str] = ..., cutoff_hz: _Optional[float] = ..., filter_order: _Optional[int] = ..., cached_only: _Optional[bool] = ...) -> None: ...

class RecordingAnalysisRequest(_message.Message):
    __slots__ = ("recording_bundle_key", "rate_hz", "units", "markers", "cutoff_hz", "cutoff_auto", "filter_order", "events_method", "height_m", "age_years", "sex", "up_axis", "forward_axis")
    RECORDING_BUNDLE_KEY_FIELD_NUMBER: _ClassVar[int]
    RATE_HZ_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    MARKERS_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_AUTO_FIELD_NUMBER: _ClassVar[int]
    FILTER_ORDER_FIELD_NUMBER: _ClassVar[int]
    EVENTS_METHOD_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_M_FIELD_NUMBER: _ClassVar[int]
    AGE_YEARS_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    UP_AXIS_FIELD_NUMBER: _ClassVar[int]
    FORWARD_AXIS_FIELD_NUMBER: _ClassVar[int]
    recording_bundle_key: str
    rate_hz: float
    units: str
    markers: str
    cutoff_hz: float
    cutoff_auto: bool
    filter_order: int
    events_method: str
    height_m: float
    age_years: float
    sex: str
    up_axis: str
    forward_axis: str
    def __init__(self, recording_bundle_key: _Optional[str] = ..., rate_hz: _Optional[float] = ..., units: _Optional[str] = ..., markers: _Optional[str] = ..., cutoff_hz: _Optional[float] = ..., cutoff_auto: _Optional[bool] = ..., filter_order: _Optional[int] = ..., events_method: _Optional[str] = ..., height_m: _Optional[float] = ..., age_years: _Optional[float] = ..., sex: _Optional[str] = ..., up_axis: _Optional[str] = ..., forward_axis: _Optional[str] = ...) -> None: ...

class AnalysisResponse(_message.Message):
    __slots__ = ("outcome", "cutoff_hz", "filter_order", "trajectories")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_HZ_FIELD_NUMBER: _ClassVar[int]
    FILTER_ORDER_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORIES_FIELD_NUMBER: _ClassVar[int]
    outcome: StageOutcome
    cutoff_hz: float
    filter_order: int
    trajectories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, outcome: _Optional[_Union[StageOutcome, _Mapping]] = ..., cutoff_hz: _Optional[float] = ..., filter_order: _Optional[int] = ..., trajectories: _Optional[_Iterable[str]] = ...) -> None: ...
