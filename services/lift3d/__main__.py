"""`python -m services.lift3d` runs this stage's gRPC service."""
from gait.launcher import serve_stage

serve_stage("lift3d")
