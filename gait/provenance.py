"""The audit trail: which code, which models, which account made a bundle and who asked for it.

Every manifest carries a `provenance` block (`stamp`); the report and `analysis.json` show the
whole chain of bundles behind a result (`audit_records` of `Bundle.lineage()`), from the input's
SHA-256 to the analysis. Nothing
here holds patient data: accounts, hosts, versions and content hashes only.
"""
from __future__ import annotations

import contextvars
import functools
import getpass
import hashlib
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

import gait
from gait.config import REPO_ROOT, build_commit, service_account
from gait.contracts import RECORDING, VIDEO

# Who asked for the current request: set by the gRPC layer from the caller's metadata
# (`REQUESTED_BY_HEADER`), read when a bundle is committed.
REQUESTED_BY_HEADER = "gait-requested-by"
requested_by: contextvars.ContextVar[str | None] = contextvars.ContextVar("requested_by", default=None)


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, str]:
    """gait's version and the commit it was built from: GAIT_BUILD_COMMIT (set in the images), else
    the git checkout the package runs from ("+modified" when its tracked files differ), else unknown."""
    commit = build_commit() or _git_commit(REPO_ROOT) or "unknown"
    return {"gait": gait.__version__, "commit": commit}


def _git_commit(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        modified = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD", "--"], capture_output=True,
                                  timeout=10).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+modified" if modified else head


@functools.lru_cache(maxsize=1)
def _process_account() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container uid without a passwd entry
        user = f"uid {os.getuid()}"
    return {"account": service_account() or user, "host": socket.gethostname()}


def requester() -> str:
    """Who this process acts for when it calls a stage: `user@host` of the account it runs as."""
    account = _process_account()
    return f"{account['account']}@{account['host']}"


def stamp() -> dict[str, Any]:
    """The provenance block of a manifest made now, in this process."""
    return {"code": code_version(), "made_by": dict(_process_account()), "requested_by": requested_by.get() or "unknown"}


@functools.lru_cache(maxsize=32)
def _hash(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_identity(name: str, path: Path) -> dict[str, str]:
    """A model file as the audit trail names it: its name and the SHA-256 of the bytes loaded
    (hashed once per process and file version)."""
    status = path.stat()
    return {"name": name, "sha256": _hash(str(path), status.st_size, status.st_mtime_ns)}


class Committed(Protocol):
    """What the audit trail reads of a committed bundle (gait.artifacts.Bundle)."""

    key: str
    manifest: dict[str, Any]


def audit_records(bundles: Iterable[Committed]) -> list[dict[str, Any]]:
    """One record per bundle (`Bundle.lineage()`, inputs first): stage, key, digest, backend with
    its models, settings, when and by whom it was made; for the ingested input, the SHA-256 of the
    file as received. Manifests written before the audit trail have no provenance: `{}`."""
    return [_record(bundle.key, bundle.manifest) for bundle in bundles]


def _record(key: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
    record = {"stage": manifest["stage"], "key": key, "digest": manifest["digest"],
              "backend": manifest.get("backend", {}), "config": manifest.get("config", {}),
              "created_utc": manifest.get("created_utc", ""), "provenance": manifest.get("provenance", {})}
    if manifest["stage"] in (VIDEO, RECORDING):
        record["input_sha256"] = {name: file["sha256"] for name, file in manifest.get("files", {}).items()}
    return record


def new_record(stage: str, backend: Mapping[str, Any], config: Mapping[str, Any],
               input_sha256: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The record of work this process is doing now (the bundle it will commit, or a result written
    without a store), in the form `audit_records` gives."""
    record = {"stage": stage, "key": "", "digest": "", "backend": dict(backend), "config": dict(config),
              "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "provenance": stamp()}
    if input_sha256:
        record["input_sha256"] = dict(input_sha256)
    return record


def _short(commit: str) -> str:
    head, _, modified = commit.partition("+")
    return head[:12] + (f"+{modified}" if modified else "")


def audit_lines(entries: list[dict[str, Any]]) -> list[str]:
    """The records as the report prints them, one line per bundle (model hashes shortened to 16
    digits; analysis.json holds them whole)."""
    lines = []
    for entry in entries:
        made = entry["provenance"]
        who = made.get("made_by", {})
        parts = [f"{entry['stage']}: {entry['backend'].get('name', '')} {entry['backend'].get('version', '')}".rstrip()]
        parts += [f"{model['name']} " + (f"sha256 {model['sha256'][:16]}" if "sha256" in model else model["version"])
                  for model in entry["backend"].get("models", [])]
        parts += [f"input sha256 {digest}" for digest in entry.get("input_sha256", {}).values()]
        if entry["config"]:
            parts.append("settings " + ", ".join(f"{k}={v}" for k, v in entry["config"].items()))
        if made:
            parts.append(f"gait {made['code']['gait']} ({_short(made['code']['commit'])}), made {entry['created_utc']} "
                         f"by {who['account']} on {who['host']}, requested by {made['requested_by']}")
        else:
            parts.append(f"made {entry['created_utc']}, before the audit trail (code and account not recorded)")
        lines.append("; ".join(parts))
    return lines
