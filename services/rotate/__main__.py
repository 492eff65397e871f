"""`python -m services.rotate` runs this stage's gRPC service."""
from gait.launcher import serve_stage

serve_stage("rotate")
