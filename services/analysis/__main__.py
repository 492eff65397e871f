"""`python -m services.analysis` runs this stage's gRPC service."""
from gait.launcher import serve_stage

serve_stage("analysis")
