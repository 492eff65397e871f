"""`python -m services.analysis` runs this stage's gRPC service."""
from gait.rpc import run_service
from services.analysis.server import create_server

run_service("analysis", create_server)
