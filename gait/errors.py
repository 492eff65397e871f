"""Errors that cross stage boundaries, each mapped to one gRPC status code."""
from __future__ import annotations

import errno

import grpc

# OSError numbers of a full disk or an exhausted quota
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# Trailing metadata of a service's admission refusal (gait.rpc.AdmissionLimit): the client tells
# "busy, ask again" from other RESOURCE_EXHAUSTED answers (a full disk), which are not waited out.
BUSY_TRAILER = "gait-busy"


class GaitError(Exception):
    """Base class: the message is one readable line, safe to show a user and to log."""

    status: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidInput(GaitError):
    """The request or the artifact it names cannot be processed (bad video, bad option)."""

    status = grpc.StatusCode.INVALID_ARGUMENT


class ArtifactNotFound(GaitError):
    """A key names no complete artifact in the store."""

    status = grpc.StatusCode.NOT_FOUND


class CorruptArtifact(GaitError):
    """An artifact's bytes do not match the checksum in its manifest."""

    status = grpc.StatusCode.DATA_LOSS


class TransientError(GaitError):
    """A fault that a retry may cure (store unreachable, service starting)."""

    status = grpc.StatusCode.UNAVAILABLE


class Cancelled(GaitError):
    """The caller went away or its deadline passed; nothing was written."""

    status = grpc.StatusCode.DEADLINE_EXCEEDED


class ModelMissing(GaitError):
    """A backend's model files are not where the configuration says."""

    status = grpc.StatusCode.FAILED_PRECONDITION


class StorageFull(GaitError):
    """A disk (the store's, or a service's work folder) has no space left; nothing half-written stays."""

    status = grpc.StatusCode.RESOURCE_EXHAUSTED


class AccessDenied(GaitError):
    """The store refused this process's credentials for a key: a deployment's permissions (each
    service may read its inputs' prefixes and write its own, docs/security.md), not retried."""

    status = grpc.StatusCode.PERMISSION_DENIED
