"""Least-privilege S3 access of each component (docs/security.md): which key prefixes each stage
service and the flows read and write, as data, and the IAM policy document granting exactly that
(the JSON AWS IAM and MinIO's `mc admin policy create` take; k8s/policies/ holds them for the
bucket `gait`, written by `python -m gait.store.policies BUCKET FOLDER`).

Each stage reads its inputs' bundles and writes its own prefix; the analysis also reads the
manifests (only) of the rotate and video bundles its input was made from, because its audit
trail walks the lineage back to the ingested file (gait.artifacts.Bundle.lineage), never their
files: the analysis service cannot read a patient's video. The flows ingest (video/, recording/),
keep the batch records (batches/) and the smoke test's object (smoke/), and read everything
(an archive's videos anywhere in the bucket, every stage's outputs for export).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gait.contracts import ANALYSIS, LIFT3D, POSE2D, RECORDING, ROTATE, STAGES, VIDEO

FLOWS = "flows"  # the Prefect worker and its flow runs, the CLI, `helm test`
COMPONENTS = (*STAGES, FLOWS)
BATCHES, SMOKE = "batches", "smoke"  # the flows' own prefixes (flows/batch_flow.py, flows/smoke_flow.py)
EVERYTHING = ""  # the prefix of every key
MANIFEST = "manifest.json"  # gait.artifacts.MANIFEST (not imported: the store knows nothing of bundles)


@dataclass(frozen=True)
class Access:
    """What one component may do in the bucket, by key prefix (a prefix is a top-level folder)."""

    reads: tuple[str, ...]  # every object under these prefixes
    writes: tuple[str, ...]  # put, read back (the cache check) and delete (a failed attempt's files)
    manifest_reads: tuple[str, ...] = ()  # only the bundles' manifest.json under these prefixes


ACCESS: dict[str, Access] = {
    ROTATE: Access(reads=(VIDEO,), writes=(ROTATE,)),
    POSE2D: Access(reads=(ROTATE,), writes=(POSE2D,)),
    LIFT3D: Access(reads=(POSE2D,), writes=(LIFT3D,)),
    ANALYSIS: Access(reads=(LIFT3D, POSE2D, RECORDING), writes=(ANALYSIS,), manifest_reads=(ROTATE, VIDEO)),
    FLOWS: Access(reads=(EVERYTHING,), writes=(VIDEO, RECORDING, BATCHES, SMOKE)),
}


def _objects(bucket: str, prefixes: tuple[str, ...], suffix: str = "*") -> list[str]:
    return [f"arn:aws:s3:::{bucket}/{prefix}{'/' if prefix else ''}{suffix}" for prefix in prefixes]


def policy(component: str, bucket: str) -> dict[str, Any]:
    """The IAM policy document of `component` (a stage or `flows`) on `bucket`.

    s3:ListBucket on the bucket is granted to every component, unconditioned: S3 answers HEAD on a
    missing object 404 only to a caller that may list (403 otherwise, which the cache check would
    take for a fault), and HEAD on the bucket needs it; the keys it shows are content hashes,
    never a patient's name or file name. No component may create or delete the bucket, change its
    policy or touch another prefix."""
    access = ACCESS[component]
    read_prefixes = (EVERYTHING,) if EVERYTHING in access.reads else access.reads + access.writes
    reads = _objects(bucket, read_prefixes) + _objects(bucket, access.manifest_reads, f"*/{MANIFEST}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "FindKeys", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": reads},
            {"Sid": "Write", "Effect": "Allow",
             "Action": ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
             "Resource": _objects(bucket, access.writes)},
        ],
    }


def write_policies(bucket: str, folder: Path) -> list[Path]:
    """`gait-<component>.json` in `folder` for every component; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for component in COMPONENTS:
        path = folder / f"gait-{component}.json"
        path.write_text(json.dumps(policy(component, bucket), indent=2) + "\n")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gait.store.policies",
                                     description="Write the least-privilege S3 policy of every gait component.")
    parser.add_argument("bucket", help="the bucket (GAIT_S3_BUCKET)")
    parser.add_argument("folder", type=Path, help="where to write gait-<component>.json")
    args = parser.parse_args(argv)
    for path in write_policies(args.bucket, args.folder):
        print(path)


if __name__ == "__main__":
    main()
