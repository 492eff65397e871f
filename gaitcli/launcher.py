"""Start the four stage services in this process, on loopback (the embedded default)."""
from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager

import grpc

from gait.config import ClientConfig, ServiceConfig
from gait.contracts import ANALYSIS, LIFT3D, POSE2D, ROTATE, STAGES
from gait.rpc import run_service, stop_gracefully


def create_stage_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    """Build and start one stage's server (each stage's modules imported only when it starts)."""
    if config.stage == ROTATE:
        from services.rotate.server import create_server
    elif config.stage == POSE2D:
        from services.pose2d.server import create_server
    elif config.stage == LIFT3D:
        from services.lift3d.server import create_server
    elif config.stage == ANALYSIS:
        from services.analysis.server import create_server
    else:
        raise ValueError(f"unknown stage {config.stage!r}; the stages are {', '.join(STAGES)}")
    return create_server(config)


def serve_stage(stage: str) -> None:
    """`gait serve STAGE`: run one stage's service until SIGTERM."""
    run_service(stage, create_stage_server)


class LocalServices(AbstractContextManager):
    """The stage services on 127.0.0.1, each on a free port; `client_config()` points flows at them."""

    def __init__(self, stages: tuple[str, ...] = STAGES, host: str = "127.0.0.1") -> None:
        self.servers: dict[str, grpc.Server] = {}
        self.addresses: dict[str, str] = {}
        try:
            for stage in stages:
                config = dataclasses.replace(ServiceConfig.from_env(stage), host=host, port=0)
                server, port = create_stage_server(config)
                self.servers[stage] = server
                self.addresses[stage] = f"{host}:{port}"
        except BaseException:
            self.stop()
            raise

    def client_config(self, timeout_s: float | None = None) -> ClientConfig:
        base = ClientConfig.from_env()
        return ClientConfig(addresses={**base.addresses, **self.addresses}, timeout_s=timeout_s or base.timeout_s,
                            reach_s=base.reach_s, tls=base.tls)

    def environment(self) -> dict[str, str]:
        """GAIT_<STAGE>_ADDR variables for a process (a Prefect runner) that should use these services."""
        return {f"GAIT_{stage.upper()}_ADDR": address for stage, address in self.addresses.items()}

    def stop(self, grace_s: float = 2.0) -> None:
        for server in self.servers.values():
            stop_gracefully(server, grace_s)
        self.servers.clear()

    def __exit__(self, *exc_info) -> None:
        self.stop()
