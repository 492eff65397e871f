"""`python -m services.rotate` runs this stage's gRPC service."""
from gait.rpc import run_service
from services.rotate.server import create_server

run_service("rotate", create_server)
