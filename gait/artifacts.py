"""Bundles: the unit of exchange between stages.

A bundle is a key prefix holding a stage's output files and a `manifest.json`, written last, that
says what each file is (media type, checksum, units, axes, fps, joint names...), which backend
made it, from which input bundles and with which configuration. A bundle without a manifest does
not exist for readers, so a crash never exposes half an output.

The bundle key is derived from the input bundles' digests, the stage's version and its
configuration, so the same video with the same settings maps to the same key and a second run
finds the work already done.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from gait.errors import ArtifactNotFound, CorruptArtifact, InvalidInput
from gait.provenance import stamp
from gait.store.base import ObjectStore

SCHEMA = "gait.bundle/1"
MANIFEST = "manifest.json"


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def derive_bundle_key(stage: str, stage_version: str, inputs: Mapping[str, str], config: Mapping[str, Any]) -> str:
    """`stage/<hash>` from the input digests, the stage's version and its configuration."""
    payload = {"stage": stage, "version": stage_version, "inputs": dict(inputs), "config": dict(config)}
    return f"{stage}/{hashlib.sha256(canonical_json(payload)).hexdigest()[:32]}"


@dataclass(frozen=True)
class Bundle:
    """A committed bundle, read through its manifest; every file read is checked against its checksum."""

    store: ObjectStore
    key: str
    manifest: dict[str, Any]

    @classmethod
    def open(cls, store: ObjectStore, key: str, expected_stage: str | None = None) -> Bundle:
        key = key.strip().rstrip("/")
        if not key:
            raise InvalidInput("no artifact key given")
        try:
            raw = store.get_bytes(f"{key}/{MANIFEST}")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        except ArtifactNotFound:
            raise ArtifactNotFound(f"no artifact bundle at key {key!r}") from None
        try:
            manifest = json.loads(raw)
        except json.JSONDecodeError:
            raise CorruptArtifact(f"manifest of {key!r} is not valid JSON") from None
        if manifest.get("schema") != SCHEMA:
            raise InvalidInput(f"{key!r} is not a gait bundle (schema {manifest.get('schema')!r})")
        if expected_stage and manifest.get("stage") != expected_stage:
            raise InvalidInput(
                f"{key!r} is a {manifest.get('stage')!r} artifact, but a {expected_stage!r} artifact is needed"
            )
        return cls(store, key, manifest)

    @property
    def stage(self) -> str:
        return self.manifest["stage"]

    @property
    def digest(self) -> str:
        return self.manifest["digest"]

    @property
    def meta(self) -> dict[str, Any]:
        return self.manifest.get("meta", {})

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.manifest["files"]

    def _entry(self, name: str) -> dict[str, Any]:
        try:
            return self.files[name]
        except KeyError:
            raise InvalidInput(f"bundle {self.key!r} ({self.stage}) has no file {name!r}") from None

    def read_bytes(self, name: str) -> bytes:
        entry = self._entry(name)
        data = self.store.get_bytes(entry["key"])
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise CorruptArtifact(f"{entry['key']!r} does not match the checksum in its manifest")
        return data

    def fetch(self, name: str, directory: Path) -> Path:
        """Download one file into `directory`, verified; returns its path."""
        entry = self._entry(name)
        target = Path(directory) / name
        self.store.get_file(entry["key"], target)
        if sha256_file(target) != entry["sha256"]:
            target.unlink(missing_ok=True)
            raise CorruptArtifact(f"{entry['key']!r} does not match the checksum in its manifest")
        return target

    def read_json(self, name: str) -> Any:
        return json.loads(self.read_bytes(name))

    def read_npy(self, name: str) -> np.ndarray:
        return np.load(io.BytesIO(self.read_bytes(name)), allow_pickle=False)

    def file_meta(self, name: str) -> dict[str, Any]:
        return self._entry(name).get("meta", {})

    def lineage(self) -> list[Bundle]:
        """This bundle and every bundle it was made from, through the manifests' inputs, inputs
        first (the ingested file, rotate, ..., this one): what the audit trail lists."""
        order: list[Bundle] = []

        def visit(bundle: Bundle) -> None:
            if any(seen.key == bundle.key for seen in order):
                return
            for link in bundle.manifest.get("inputs", {}).values():
                visit(Bundle.open(bundle.store, link["key"]))
            order.append(bundle)

        visit(self)
        return order


def find_bundle(store: ObjectStore, key: str) -> Bundle | None:
    """The committed bundle at `key`, or None (the cache check before a stage computes)."""
    if not store.exists(f"{key}/{MANIFEST}"):
        return None
    return Bundle.open(store, key)


def cached_stage(store: ObjectStore, stage: str, version: str, inputs: Mapping[str, str], config: Mapping[str, Any],
                 compute: Callable[[str], Bundle], cached_only: bool = False) -> tuple[Bundle, bool]:
    """The one cached-stage sequence every stage and ingest uses: the key from the stage's version,
    its inputs' digests and its settings (`derive_bundle_key`); the bundle already committed there
    (cached: True), else the one `compute(key)` commits (False). `cached_only`: never compute;
    ArtifactNotFound when the bundle is not there (a request's `cached_only`)."""
    key = derive_bundle_key(stage, version, inputs, config)
    found = find_bundle(store, key)
    if found is not None:
        return found, True
    if cached_only:
        raise ArtifactNotFound(f"no {stage} bundle for these inputs and settings in the store yet "
                               "(cached_only: nothing computed)")
    return compute(key), False


class BundleWriter:
    """Collects a stage's output files in a private work folder, then commits them.

    Files go to `<key>/<attempt>/<name>` and the manifest to `<key>/manifest.json` last, so two
    attempts at the same key never mix files and readers see all of a bundle or nothing. If the
    `with` block raises, or the commit fails, what was uploaded is removed again.
    """

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        stage: str,
        backend: Mapping[str, str],
        inputs: Mapping[str, Bundle],
        config: Mapping[str, Any],
    ) -> None:
        self.store = store
        self.key = key
        self.stage = stage
        self.backend = dict(backend)
        self.inputs = {name: {"key": b.key, "digest": b.digest} for name, b in inputs.items()}
        self.config = dict(config)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"gait-{stage}-"))
        self._entries: dict[str, dict[str, Any]] = {}
        self._attempt = uuid.uuid4().hex[:12]

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Where to write the file `name` before calling add()."""
        return self.workdir / name

    def add(self, name: str, media_type: str, description: str, meta: Mapping[str, Any] | None = None) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name} was not written to the bundle's work folder")
        self._entries[name] = {
            "key": f"{self.key}/{self._attempt}/{name}",
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
            "media_type": media_type,
            "description": description,
            "meta": dict(meta or {}),
        }
        return path

    def add_json(self, name: str, obj: Any, description: str, meta: Mapping[str, Any] | None = None) -> Path:
        self.path(name).write_text(json.dumps(obj, indent=1, default=str))
        return self.add(name, "application/json", description, meta)

    def add_npy(self, name: str, array: np.ndarray, description: str, meta: Mapping[str, Any] | None = None) -> Path:
        np.save(self.path(name), array, allow_pickle=False)
        full_meta = {"shape": list(array.shape), "dtype": str(array.dtype), **(meta or {})}
        return self.add(name, "application/x-npy", description, full_meta)

    def commit(self, meta: Mapping[str, Any] | None = None) -> Bundle:
        files_digest = hashlib.sha256(canonical_json({n: e["sha256"] for n, e in sorted(self._entries.items())}))
        manifest = {
            "schema": SCHEMA,
            "stage": self.stage,
            "key": self.key,
            "digest": files_digest.hexdigest(),
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "backend": self.backend,
            "inputs": self.inputs,
            "config": self.config,
            "meta": dict(meta or {}),
            "files": self._entries,
            "provenance": stamp(),
        }
        uploaded: list[str] = []
        try:
            for name, entry in self._entries.items():
                self.store.put_file(entry["key"], self.path(name))
                uploaded.append(entry["key"])
            self.store.put_bytes(f"{self.key}/{MANIFEST}", json.dumps(manifest, indent=1).encode())
        except BaseException:
            for key in uploaded:
                self.store.delete(key)
            raise
        return Bundle(self.store, self.key, manifest)
