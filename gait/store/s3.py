"""MinIO or any S3-compatible endpoint, through the official `minio` client.

A single PUT is atomic on S3: an object is either absent or whole. Network faults become
TransientError (the flows retry them); a missing object becomes ArtifactNotFound, a refused one
AccessDenied (each service's credentials reach only its own prefixes: gait/store/policies.py). Over HTTPS
(GAIT_S3_SECURE) the endpoint's certificate is checked against the system's CAs, or only against
GAIT_S3_CA_FILE when it is set (a hospital's own CA).
"""
from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import S3Error

from gait.config import StoreConfig
from gait.errors import AccessDenied, ArtifactNotFound, TransientError
from gait.store.base import ObjectStore, check_key
from gait.tls import TlsMisconfigured, read_certificates

_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "NotFound"}


def _trust(config: StoreConfig) -> dict[str, str]:
    """urllib3's certificate settings: the CA bundle of GAIT_S3_CA_FILE (checked now, so an unusable
    one is named at start-up), else its defaults (the system's CAs, certificates required)."""
    if config.s3_ca_file is None:
        return {}
    if not config.s3_secure:
        raise TlsMisconfigured("GAIT_S3_CA_FILE is set but GAIT_S3_SECURE is not true: the CA is used only over HTTPS")
    read_certificates("GAIT_S3_CA_FILE", config.s3_ca_file)
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": str(config.s3_ca_file)}


class S3Store(ObjectStore):
    def __init__(self, config: StoreConfig) -> None:
        self.bucket = config.s3_bucket
        self.endpoint = config.s3_endpoint
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=120),
            retries=urllib3.Retry(total=3, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504)),
            **_trust(config),
        )
        self.client = Minio(
            config.s3_endpoint,
            access_key=config.s3_access_key or None,
            secret_key=config.s3_secret_key or None,
            secure=config.s3_secure,
            region=config.s3_region,
            http_client=http,
        )
        self._call(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        try:
            exists = self.client.bucket_exists(self.bucket)
        except S3Error as exc:
            if exc.code != "AccessDenied":
                raise
            return  # credentials scoped to prefixes may not ask: the bucket is the operator's, the first call tells
        if not exists:
            self.client.make_bucket(self.bucket)

    def _call(self, fn, *args, key: str = "", **kwargs):
        try:
            return fn(*args, **kwargs)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ArtifactNotFound(f"no artifact at key {key!r}") from None
            if exc.code == "AccessDenied":
                raise AccessDenied(f"the object store refused access to key {key!r} for the credentials of this "
                                   "process (GAIT_S3_ACCESS_KEY; docs/security.md)") from None
            raise TransientError(f"object store error {exc.code} for key {key!r}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"object store {self.endpoint} unreachable: {type(exc).__name__}") from None

    def put_file(self, key: str, path: Path) -> None:
        self._call(self.client.fput_object, self.bucket, check_key(key), str(path), key=key)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._call(self.client.put_object, self.bucket, check_key(key), io.BytesIO(data), len(data), key=key)

    def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, check_key(key))
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call(read, key=key)

    def get_file(self, key: str, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(path.parent / f".tmp-{uuid.uuid4().hex}")  # minio writes it and renames it into place
        try:
            self._call(self.client.fget_object, self.bucket, check_key(key), tmp, key=key)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            self._call(self.client.stat_object, self.bucket, check_key(key), key=key)
            return True
        except ArtifactNotFound:
            return False

    def list(self, prefix: str) -> list[str]:
        objects = self._call(lambda: list(self.client.list_objects(self.bucket, prefix=prefix, recursive=True)), key=prefix)
        return sorted(o.object_name for o in objects)

    def delete(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, check_key(key), key=key)

    @property
    def location(self) -> str:
        return f"s3://{self.endpoint}/{self.bucket}"
