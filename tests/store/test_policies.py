"""Least-privilege S3 credentials, enforced for real: moto's S3 and IAM with authentication on (a
server process with INITIAL_NO_AUTH_ACTION_COUNT), one IAM user per component holding its policy
from gait/store/policies.py (created through moto's IAM API as `mc admin policy create/attach`
does on MinIO), the four stage services each on its own credentials running the chain on a real
clip, the flows ingesting and exporting with theirs; then every component's reads and writes of
every prefix, against a table of what each may do written out here (not derived from the code
under test)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gait.client import call_stage
from gait.config import ClientConfig, ServiceConfig, StoreConfig
from gait.contracts import ANALYSIS, LIFT3D, POSE2D, RECORDING, ROTATE, STAGES, VIDEO
from gait.errors import AccessDenied
from gait.export import export_outputs
from gait.ingest import ingest_video
from gait.store import open_store
from gait.store.policies import COMPONENTS, FLOWS, policy, write_policies
from gait.v1 import stages_pb2
from gaitcli.launcher import create_stage_server
from tests.store.conftest import free_port

BUCKET = "gait"
PREFIXES = (VIDEO, RECORDING, ROTATE, POSE2D, LIFT3D, ANALYSIS, "batches", "smoke", "archive")
# What each component may do, prefix by prefix: the intent, stated independently of policies.py.
WRITES = {ROTATE: {ROTATE}, POSE2D: {POSE2D}, LIFT3D: {LIFT3D}, ANALYSIS: {ANALYSIS},
          FLOWS: {VIDEO, RECORDING, "batches", "smoke"}}
READS = {ROTATE: {VIDEO, ROTATE}, POSE2D: {ROTATE, POSE2D}, LIFT3D: {POSE2D, LIFT3D},
         ANALYSIS: {LIFT3D, POSE2D, RECORDING, ANALYSIS}, FLOWS: set(PREFIXES)}
MANIFESTS_ONLY = {ANALYSIS: {ROTATE, VIDEO}}  # the audit trail's lineage, never the patient's video


@pytest.fixture(scope="module")
def moto_with_iam():
    """(endpoint, admin boto3 session): the first three requests (make the admin user, its policy,
    its key) are let through unauthenticated; every request after them is checked against IAM."""
    import boto3

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("moto's server did not start")
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        bootstrap = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                                 aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        bootstrap.create_user(UserName="admin")
        bootstrap.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = bootstrap.create_access_key(UserName="admin")["AccessKey"]
        admin = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                              region_name="us-east-1")
        yield f"127.0.0.1:{port}", url, admin
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def credentials(moto_with_iam, tmp_path_factory) -> dict[str, StoreConfig]:
    """One IAM user per component with the policy file written for it, and its store settings."""
    endpoint, url, admin = moto_with_iam
    iam, s3 = admin.client("iam", endpoint_url=url), admin.client("s3", endpoint_url=url)
    s3.create_bucket(Bucket=BUCKET)
    out = {}
    for path in write_policies(BUCKET, tmp_path_factory.mktemp("policies")):
        component = path.stem.removeprefix("gait-")
        iam.create_user(UserName=path.stem)
        arn = iam.create_policy(PolicyName=path.stem, PolicyDocument=path.read_text())["Policy"]["Arn"]
        iam.attach_user_policy(UserName=path.stem, PolicyArn=arn)
        key = iam.create_access_key(UserName=path.stem)["AccessKey"]
        out[component] = StoreConfig(backend="s3", s3_endpoint=endpoint, s3_bucket=BUCKET,
                                     s3_access_key=key["AccessKeyId"], s3_secret_key=key["SecretAccessKey"])
    assert sorted(out) == sorted(COMPONENTS)
    return out


@pytest.fixture(scope="module")
def chain(credentials, moto_with_iam, short_clip, tmp_path_factory) -> dict[str, str]:
    """The whole chain, each service with its own credentials: the bundle key of every step."""
    flows = open_store(credentials[FLOWS])
    keys = {VIDEO: ingest_video(flows, short_clip).key}
    servers = {stage: create_stage_server(ServiceConfig(stage=stage, port=0, store=credentials[stage]))
               for stage in STAGES}
    try:
        client = ClientConfig(addresses={stage: f"127.0.0.1:{port}" for stage, (_, port) in servers.items()})
        keys[ROTATE] = call_stage(ROTATE, "Rotate", stages_pb2.RotateRequest(video_key=keys[VIDEO]),
                                  client).outcome.bundle_key
        keys[POSE2D] = call_stage(POSE2D, "EstimatePose", stages_pb2.Pose2DRequest(video_bundle_key=keys[ROTATE]),
                                  client).outcome.bundle_key
        keys[LIFT3D] = call_stage(LIFT3D, "Lift", stages_pb2.Lift3DRequest(pose2d_bundle_key=keys[POSE2D]),
                                  client).outcome.bundle_key
        keys[ANALYSIS] = call_stage(ANALYSIS, "Analyze", stages_pb2.AnalysisRequest(lift3d_bundle_key=keys[LIFT3D]),
                                    client).outcome.bundle_key
    finally:
        for server, _ in servers.values():
            server.stop(0)
    # objects of the prefixes the chain leaves empty, put there by the operator
    _, url, admin = moto_with_iam
    s3 = admin.client("s3", endpoint_url=url)
    for prefix in ("recording", "batches", "smoke", "archive"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/0123/manifest.json", Body=b"{}")
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/0123/a1/file.bin", Body=b"x")
    return keys


def test_each_stage_runs_the_chain_on_its_own_credentials_and_the_flows_export_it(chain, credentials, tmp_path):
    assert [chain[name].split("/")[0] for name in (VIDEO, *STAGES)] == [VIDEO, *STAGES]
    written = export_outputs(open_store(credentials[FLOWS]), chain, tmp_path / "out")
    assert {path.parent.name for path in written} >= {"manifests", "analysis"}
    # the audit trail walked back to the video through manifests the analysis may read
    summary = json.loads((tmp_path / "out" / "analysis" / "analysis.json").read_text())
    assert summary["audit_trail"][0]["stage"] == VIDEO


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_writes_only_its_own_prefixes(chain, credentials, component):
    store = open_store(credentials[component])
    for prefix in PREFIXES:
        key = f"{prefix}/0123/a1/file.bin"
        if prefix in WRITES[component]:
            store.put_bytes(f"{prefix}/probe-{component}/x.bin", b"y")
            store.delete(f"{prefix}/probe-{component}/x.bin")
            continue
        with pytest.raises(AccessDenied):
            store.put_bytes(f"{prefix}/probe-{component}/x.bin", b"y")
        with pytest.raises(AccessDenied):
            store.delete(key)


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_reads_only_its_inputs(chain, credentials, component):
    admin_keys = open_store(credentials[FLOWS]).list("")
    store = open_store(credentials[component])
    for prefix in PREFIXES:
        keys = [k for k in admin_keys if k.startswith(f"{prefix}/") and "/probe-" not in k]
        assert any(k.endswith("/manifest.json") for k in keys) and any(not k.endswith(".json") for k in keys), prefix
        for key in keys:
            readable = prefix in READS[component] or (
                prefix in MANIFESTS_ONLY.get(component, ()) and key.endswith("/manifest.json"))
            if readable:
                store.get_bytes(key)
            else:
                with pytest.raises(AccessDenied):
                    store.get_bytes(key)
    # a missing key in a readable prefix is "not there" (404), not "refused": the cache check works
    assert not store.exists(f"{next(iter(WRITES[component]))}/0000/manifest.json")


def test_the_chart_ships_the_policies_for_the_bucket_gait(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "k8s" / "policies"
    for component in COMPONENTS:
        assert json.loads((shipped / f"gait-{component}.json").read_text()) == policy(component, BUCKET), component
    assert sorted(p.name for p in shipped.glob("*.json")) == sorted(f"gait-{c}.json" for c in COMPONENTS)
