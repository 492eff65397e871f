"""Object storage for artifacts: one interface, a local-directory and an S3/MinIO backend."""
from __future__ import annotations

from gait.config import StoreConfig
from gait.store.base import ObjectStore
from gait.store.local import LocalStore


def open_store(config: StoreConfig | None = None) -> ObjectStore:
    """The store that `config` (default: the environment) selects."""
    config = config or StoreConfig.from_env()
    if config.backend == "local":
        return LocalStore(config.local_dir)
    if config.backend in ("s3", "minio"):
        from gait.store.s3 import S3Store

        return S3Store(config)
    raise ValueError(f"GAIT_STORE={config.backend!r} is not a store backend; use 'local' or 's3'")


__all__ = ["ObjectStore", "LocalStore", "open_store"]
