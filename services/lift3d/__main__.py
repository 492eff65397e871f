"""`python -m services.lift3d` runs this stage's gRPC service."""
from gait.rpc import run_service
from services.lift3d.server import create_server

run_service("lift3d", create_server)
