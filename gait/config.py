"""Configuration from environment variables, with documented defaults.

Every variable is listed in README.md ("Configuration") and set by the Helm chart; the embedded
default (local-directory store, services on loopback) needs none of them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gait.contracts import ANALYSIS, LIFT3D, POSE2D, ROTATE, STAGES

DEFAULT_PORTS = {ROTATE: 50051, POSE2D: 50052, LIFT3D: 50053, ANALYSIS: 50054}
X264_PRESET = "ultrafast"  # GAIT_X264_PRESET's default: pose2d's exported videos (README, "Speed and memory")
REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value if value else default


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def gait_home() -> Path:
    """GAIT_HOME: where the embedded store and Prefect's local database live (default ~/.cache/gait)."""
    return Path(_env("GAIT_HOME", str(Path.home() / ".cache" / "gait"))).expanduser()


def models_dir() -> Path:
    """GAIT_MODELS_DIR: model files (default: pretrained_models/ of the checkout)."""
    return Path(_env("GAIT_MODELS_DIR", str(REPO_ROOT / "pretrained_models"))).expanduser()


def data_dir() -> Path:
    """GAIT_DATA_DIR: the demo clip and the normal-walking reference (default: data/ of the checkout)."""
    return Path(_env("GAIT_DATA_DIR", str(REPO_ROOT / "data"))).expanduser()


def build_commit() -> str:
    """GAIT_BUILD_COMMIT: the commit an image was built from (docker/build.py sets it; empty elsewhere)."""
    return _env("GAIT_BUILD_COMMIT", "")


def service_account() -> str:
    """GAIT_SERVICE_ACCOUNT: the account the audit trail names for this process (the chart sets the
    pod's Kubernetes service account; empty: the operating-system user)."""
    return _env("GAIT_SERVICE_ACCOUNT", "")


PREFECT_SERVER_MODES = ("background", "temporary")


def prefect_server_mode() -> str:
    """GAIT_PREFECT_SERVER: the Prefect API `gait run`/`batch` use when PREFECT_API_URL does not
    answer: `background` (default; kept running between commands) or `temporary` (one per command)."""
    from gait.errors import InvalidInput

    mode = _env("GAIT_PREFECT_SERVER", "background")
    if mode not in PREFECT_SERVER_MODES:
        raise InvalidInput(f"GAIT_PREFECT_SERVER must be background or temporary (got {mode!r})")
    return mode


def prefect_idle_s() -> float:
    """GAIT_PREFECT_IDLE_S: the background Prefect server stops after this long without a request.
    300 s: idle, it still uses ~2.5 % of a core (its database and task workers poll), so keeping it
    longer than ~5 minutes costs more than starting it again (~8 CPU s)."""
    return float(_env("GAIT_PREFECT_IDLE_S", "300"))


def _env_path(name: str) -> Path | None:
    value = _env(name, "")
    return Path(value).expanduser() if value else None


def _positive_int(name: str, default: str) -> int:
    value = int(_env(name, default))
    if value < 1:
        raise ValueError(f"{name} must be at least 1 (got {value})")
    return value


@dataclass(frozen=True)
class StoreConfig:
    """GAIT_STORE selects the backend: `local` (a directory) or `s3` (MinIO or any S3 endpoint)."""

    backend: str = "local"
    local_dir: Path = field(default_factory=lambda: gait_home() / "store")
    s3_endpoint: str = "127.0.0.1:9000"
    s3_bucket: str = "gait"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_secure: bool = False
    s3_ca_file: Path | None = None  # GAIT_S3_CA_FILE: the CA bundle an HTTPS endpoint's certificate is checked against
    s3_region: str = "us-east-1"

    @classmethod
    def from_env(cls) -> StoreConfig:
        return cls(
            backend=_env("GAIT_STORE", "local").lower(),
            local_dir=Path(_env("GAIT_STORE_DIR", str(gait_home() / "store"))).expanduser(),
            s3_endpoint=_env("GAIT_S3_ENDPOINT", "127.0.0.1:9000"),
            s3_bucket=_env("GAIT_S3_BUCKET", "gait"),
            s3_access_key=_env("GAIT_S3_ACCESS_KEY", ""),
            s3_secret_key=_env("GAIT_S3_SECRET_KEY", ""),
            s3_secure=_env_bool("GAIT_S3_SECURE", False),
            s3_ca_file=_env_path("GAIT_S3_CA_FILE"),
            s3_region=_env("GAIT_S3_REGION", "us-east-1"),
        )


@dataclass(frozen=True)
class TlsConfig:
    """TLS of the gRPC hops (gait/tls.py, docs/security.md); all unset: plaintext, the embedded
    default on loopback. A server with `cert` and `key` serves TLS only, and with `client_ca` serves
    only clients presenting a certificate that CA signed (mutual TLS). A client with `ca` connects
    over TLS trusting only servers that CA signed, and presents `client_cert`/`client_key` if set."""

    cert: Path | None = None  # GAIT_TLS_CERT: the server's certificate chain (PEM)
    key: Path | None = None  # GAIT_TLS_KEY: the server's private key (PEM)
    client_ca: Path | None = None  # GAIT_TLS_CLIENT_CA: require client certificates signed by this CA
    ca: Path | None = None  # GAIT_TLS_CA: the CA a client trusts for the servers' certificates
    client_cert: Path | None = None  # GAIT_TLS_CLIENT_CERT: the client's certificate (mutual TLS)
    client_key: Path | None = None  # GAIT_TLS_CLIENT_KEY: the client's private key (mutual TLS)

    @classmethod
    def from_env(cls) -> TlsConfig:
        return cls(cert=_env_path("GAIT_TLS_CERT"), key=_env_path("GAIT_TLS_KEY"),
                   client_ca=_env_path("GAIT_TLS_CLIENT_CA"), ca=_env_path("GAIT_TLS_CA"),
                   client_cert=_env_path("GAIT_TLS_CLIENT_CERT"), client_key=_env_path("GAIT_TLS_CLIENT_KEY"))


@dataclass(frozen=True)
class ServiceConfig:
    """One stage service: where it listens and how much it may use."""

    stage: str
    host: str = "127.0.0.1"
    port: int = 0
    max_workers: int = 4
    max_concurrent: int = 2  # GAIT_MAX_CONCURRENT: stage calls admitted at once; beyond, RESOURCE_EXHAUSTED
    grace_s: float = 10.0
    num_threads: int = 2
    backend: str = ""  # GAIT_<STAGE>_BACKEND (pose2d, lift3d): empty picks the default rule of its registry
    x264_preset: str = X264_PRESET  # GAIT_X264_PRESET (pose2d): the exported, de-identified upright video
    max_long_side: int = 3840  # GAIT_MAX_LONG_SIDE (rotate): longer frames are scaled down to it (memory bound)
    store: StoreConfig = field(default_factory=StoreConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)

    @classmethod
    def from_env(cls, stage: str) -> ServiceConfig:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
        prefix = f"GAIT_{stage.upper()}_"
        return cls(
            stage=stage,
            host=_env(prefix + "HOST", _env("GAIT_HOST", "127.0.0.1")),
            port=int(_env(prefix + "PORT", str(DEFAULT_PORTS[stage]))),
            max_workers=int(_env("GAIT_MAX_WORKERS", "4")),
            max_concurrent=_positive_int("GAIT_MAX_CONCURRENT", "2"),
            grace_s=float(_env("GAIT_GRACE_S", "10")),
            num_threads=int(_env("GAIT_NUM_THREADS", str(min(4, os.cpu_count() or 1)))),
            backend=_env(prefix + "BACKEND", ""),
            x264_preset=_env("GAIT_X264_PRESET", X264_PRESET),
            max_long_side=_positive_int("GAIT_MAX_LONG_SIDE", "3840"),
            store=StoreConfig.from_env(),
            tls=TlsConfig.from_env(),
        )


@dataclass(frozen=True)
class ClientConfig:
    """Where the flows find the services (GAIT_<STAGE>_ADDR) and how long a call may take."""

    addresses: dict[str, str]
    timeout_s: float = 600.0  # per attempt, for the answer
    reach_s: float = 60.0  # per attempt, for the connection: a service down for longer is named, not waited for
    busy_s: float = 600.0  # per call, for admission: a service at its GAIT_MAX_CONCURRENT is asked again until then
    tls: TlsConfig = field(default_factory=TlsConfig)  # GAIT_TLS_CA, GAIT_TLS_CLIENT_CERT/KEY

    @classmethod
    def from_env(cls) -> ClientConfig:
        return cls(
            addresses={s: _env(f"GAIT_{s.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[s]}") for s in STAGES},
            timeout_s=float(_env("GAIT_RPC_TIMEOUT_S", "600")),
            reach_s=float(_env("GAIT_REACH_S", "60")),
            busy_s=float(_env("GAIT_BUSY_WAIT_S", "600")),
            tls=TlsConfig.from_env(),
        )
