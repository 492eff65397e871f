"""gait: 3D gait analysis from a phone video, as four gRPC stage services orchestrated by Prefect."""

__version__ = "0.1.0"
