"""The embedded default: objects are files under one directory."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from gait.errors import NO_SPACE_ERRNOS, ArtifactNotFound, StorageFull
from gait.store.base import ObjectStore, check_key


def _temporary(folder: Path, private: bool) -> tuple[int, str]:
    """A new file in `folder`: owner-only (0600) for the store's own objects, which hold patient
    data; with the user's umask for files handed out (exports)."""
    folder.mkdir(parents=True, exist_ok=True)
    if private:
        return tempfile.mkstemp(dir=folder, prefix=".tmp-")
    path = str(folder / f".tmp-{uuid.uuid4().hex}")
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path


def atomic_copy(source: Path, target: Path, private: bool = True) -> None:
    """Copy via a temporary file in the target's folder and rename it into place."""
    fd, tmp = _temporary(target.parent, private)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(target: Path, data: bytes) -> None:
    fd, tmp = _temporary(target.parent, private=True)
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
        with self._space_checked():
            atomic_copy(Path(path), self._path(key))

    def put_bytes(self, key: str, data: bytes) -> None:
        with self._space_checked():
            atomic_write(self._path(key), data)

    @contextmanager
    def _space_checked(self) -> Iterator[None]:
        """A full disk or quota is StorageFull naming the store (the partial file is already gone)."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in NO_SPACE_ERRNOS:
                raise
            raise StorageFull(f"no space left on the disk of the store ({self.location}): free space or give it a "
                              "larger volume (GAIT_STORE_DIR); nothing half-written was kept") from None

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ArtifactNotFound(f"no artifact at key {key!r}") from None

    def get_file(self, key: str, path: Path) -> None:
        source = self._path(key)
        if not source.is_file():
            raise ArtifactNotFound(f"no artifact at key {key!r}")
        atomic_copy(source, Path(path), private=False)

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
