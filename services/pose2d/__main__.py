"""`python -m services.pose2d` runs this stage's gRPC service."""
from gait.launcher import serve_stage

serve_stage("pose2d")
