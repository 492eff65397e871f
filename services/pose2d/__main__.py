"""`python -m services.pose2d` runs this stage's gRPC service."""
from gait.rpc import run_service
from services.pose2d.server import create_server

run_service("pose2d", create_server)
