"""The storage interface every backend implements."""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


def check_key(key: str) -> str:
    """Keys are relative, '/'-separated, with no '..' or empty parts (safe as paths and object names)."""
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid artifact key {key!r}")
    return key


class ObjectStore(ABC):
    """Whole-object reads and writes; a write is atomic (readers never see part of an object)."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Raises ArtifactNotFound when there is no such object."""

    @abstractmethod
    def get_file(self, key: str, path: Path) -> None:
        """Download to `path` (atomically); raises ArtifactNotFound."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix` (a folder-like prefix ending in '/' or a key start), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; no error when it is absent."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, for logs and summaries (no credentials)."""
