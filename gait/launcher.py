"""Start the four stage services in this process, on loopback (the embedded default)."""
from __future__ import annotations

import dataclasses
import importlib
from contextlib import AbstractContextManager

import grpc

from gait.config import STAGES, ClientConfig, ServiceConfig
from gait.logs import configure_logging
from gait.rpc import serve_until_signalled, stop_gracefully


def create_stage_server(config: ServiceConfig) -> tuple[grpc.Server, int]:
    """Build and start one stage's server from its package `services.<stage>.server`."""
    module = importlib.import_module(f"services.{config.stage}.server")
    return module.create_server(config)


def serve_stage(stage: str) -> None:
    """Run one stage's service until SIGTERM (`gait serve STAGE`, `python -m services.STAGE`)."""
    configure_logging()
    config = ServiceConfig.from_env(stage)
    server, _ = create_stage_server(config)
    serve_until_signalled(server, config.grace_s)


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
        return ClientConfig(addresses={**base.addresses, **self.addresses}, timeout_s=timeout_s or base.timeout_s)

    def environment(self) -> dict[str, str]:
        """GAIT_<STAGE>_ADDR variables for a process (a Prefect runner) that should use these services."""
        return {f"GAIT_{stage.upper()}_ADDR": address for stage, address in self.addresses.items()}

    def stop(self, grace_s: float = 2.0) -> None:
        for server in self.servers.values():
            stop_gracefully(server, grace_s)
        self.servers.clear()

    def __exit__(self, *exc_info) -> None:
        self.stop()
