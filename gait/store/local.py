"""The embedded default: objects are files under one directory."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from gait.errors import ArtifactNotFound
from gait.store.base import ObjectStore, check_key


def atomic_copy(source: Path, target: Path) -> None:
    """Copy via a temporary file in the target's folder and rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, path: Path) -> None:
        atomic_copy(Path(path), self._path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        atomic_write(self._path(key), data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ArtifactNotFound(f"no artifact at key {key!r}") from None

    def get_file(self, key: str, path: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ArtifactNotFound(f"no artifact at key {key!r}")
        atomic_copy(source, Path(path))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix.rstrip("/") if prefix.rstrip("/") else self.root
        search = base if base.is_dir() else base.parent
        if not search.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in search.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not Path(k).name.startswith(".tmp-"))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    @property
    def location(self) -> str:
        return f"local:{self.root}"
