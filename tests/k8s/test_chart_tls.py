"""The chart's security settings (docs/security.md), rendered by the real helm: TLS of the gRPC hops
(the Secrets mounted read-only where they are needed and nowhere else, the GAIT_TLS_* variables
pointing at the mounted files, exec probes that speak TLS: run here against a real TLS server with
the rendered command and environment), the external store's CA, one set of S3 credentials per
component, and values.schema.json refusing what it does not know."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from gait.config import REPO_ROOT, ServiceConfig, TlsConfig
from gait.contracts import STAGES
from gait.rpc import build_server
from gait.v1 import stages_pb2_grpc
from tests.certs import make_certificates
from tests.k8s.conftest import Rendered, load, render
from tests.k8s.test_chart import containers, env_of, stage_deployment

SECURE = "secure"  # k8s/examples/values-secure.yaml: mutual TLS, S3 over HTTPS with a CA, own credentials
TLS_FILES = ("GAIT_TLS_CERT", "GAIT_TLS_KEY", "GAIT_TLS_CLIENT_CA", "GAIT_TLS_CA", "GAIT_TLS_CLIENT_CERT",
             "GAIT_TLS_CLIENT_KEY")
SERVER_ONLY = {"GAIT_TLS_CERT", "GAIT_TLS_KEY", "GAIT_TLS_CLIENT_CA"}


def workloads(r: Rendered) -> dict[str, tuple[dict, dict]]:
    """name -> (pod spec, its gait container) of every pod with a gait image."""
    out = {}
    for where, spec in r.pod_specs():
        for c in containers(spec):
            if c["image"].split("/")[-1].startswith("gait-"):
                out[f"{where.split('/')[1]}/{c['name']}"] = (spec, c)
    return out


def mounted_files(spec: dict, container: dict) -> dict[str, str]:
    """path -> 'secret/key' of every Secret file the container sees (the projected items)."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        assert mount.get("readOnly") is True, (container["name"], mount)
        for item in secret["items"]:
            files[f"{mount['mountPath']}/{item['path']}"] = f"{secret['secretName']}/{item['key']}"
    return files


def test_tls_is_off_by_default(rendered):
    for name, (spec, c) in workloads(rendered["defaults"]).items():
        assert not [e for e in env_of(c) if e.startswith("GAIT_TLS_") or e == "GAIT_S3_CA_FILE"], name
        assert not mounted_files(spec, c), name


def test_every_tls_file_is_a_mounted_secret_file_and_keys_stay_where_they_belong(rendered):
    pods = workloads(rendered[SECURE])
    expected_env = {}
    for stage in STAGES:
        expected_env[f"gait-{stage}/{stage}"] = set(TLS_FILES)
        expected_env[f"gait-test-{stage}/health"] = set(TLS_FILES) - SERVER_ONLY
    expected_env["gait-prefect-worker/prefect-worker"] = expected_env["gait-test-flow/flow"] = set(TLS_FILES) - SERVER_ONLY
    assert {name for name, (_, c) in pods.items() if any(e.startswith("GAIT_TLS_") for e in env_of(c))} == set(expected_env)
    for name, (spec, c) in pods.items():
        env, files = env_of(c), mounted_files(spec, c)
        for variable in expected_env.get(name, ()):
            assert env[variable]["value"] in files, (name, variable)
        seen = set(files.values())
        if name.startswith(tuple(f"gait-{stage}/" for stage in STAGES)):
            assert seen == {"gait-services-tls/tls.crt", "gait-services-tls/tls.key", "gait-services-tls/ca.crt",
                            "gait-flows-tls/tls.crt", "gait-flows-tls/tls.key", "gait-s3-ca/ca.crt"}, name
        elif name in expected_env:
            # a flows or test pod: the CA of the services and its client certificate, never the services' key
            assert {"gait-services-tls/ca.crt", "gait-flows-tls/tls.crt", "gait-flows-tls/tls.key"} <= seen, name
            assert "gait-services-tls/tls.key" not in seen and "gait-services-tls/tls.crt" not in seen, name
        else:
            assert not any(f.startswith(("gait-services-tls", "gait-flows-tls")) for f in seen), name


def test_tls_without_mutual_mounts_no_client_certificate():
    result = render((), "tls.enabled=true", "tls.secretName=gait-tls")
    assert result.returncode == 0, result.stderr
    r = Rendered("tls", result.stdout, load(result.stdout))
    rotate = stage_deployment(r, "rotate")["spec"]["template"]["spec"]["containers"][0]
    assert {e for e in env_of(rotate) if e.startswith("GAIT_TLS_")} == {"GAIT_TLS_CERT", "GAIT_TLS_KEY", "GAIT_TLS_CA"}
    worker = r.get("Deployment", "gait-prefect-worker")["spec"]["template"]["spec"]["containers"][0]
    assert {e for e in env_of(worker) if e.startswith("GAIT_TLS_")} == {"GAIT_TLS_CA"}
    assert "tls-client" not in result.stdout


@pytest.mark.parametrize(("sets", "message"), [
    (("tls.enabled=true",), "tls.secretName (a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt) is required"),
    (("tls.enabled=true", "tls.secretName=x", "tls.mutual=true"), "tls.clientSecretName (a kubernetes.io/tls Secret"),
    (("tls.enabeld=true",), "additional properties 'enabeld' not allowed"),
    (("tls.mutual=yes",), "at '/tls/mutual': got string, want boolean"),
    (("store.credentials.rotat=s3-rotate",), "additional properties 'rotat' not allowed"),
])
def test_incomplete_or_unknown_security_values_are_refused(sets, message):
    result = render((), *sets)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_with_tls_every_service_probe_is_the_tls_probe_for_its_service_name(rendered):
    r = rendered[SECURE]
    for stage in STAGES:
        container = stage_deployment(r, stage)["spec"]["template"]["spec"]["containers"][0]
        port = container["ports"][0]["containerPort"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "grpc" not in container[probe], (stage, probe)
            assert container[probe]["exec"]["command"] == ["python", "-m", "gait.probe", str(port), f"gait-{stage}"]
            assert container[probe]["timeoutSeconds"] == 10


def test_the_rendered_probe_answers_against_a_tls_server_set_up_as_the_chart_sets_it(rendered, tmp_path, monkeypatch):
    """The rotate pod's probe command and TLS environment, with /etc/gait/* mapped onto certificates
    made here: the server (mutual TLS, from the pod's GAIT_TLS_*) serves, the probe exits 0; with
    the client certificate's files gone, it exits 1."""
    certs = make_certificates(tmp_path / "made", server_names=("gait-rotate",))
    made = {"gait-services-tls/tls.crt": certs.server.cert, "gait-services-tls/tls.key": certs.server.key,
            "gait-services-tls/ca.crt": certs.ca, "gait-flows-tls/tls.crt": certs.client.cert,
            "gait-flows-tls/tls.key": certs.client.key}
    spec = stage_deployment(rendered[SECURE], "rotate")["spec"]["template"]["spec"]
    container = spec["containers"][0]
    files = mounted_files(spec, container)
    env = {name: str(made[files[entry["value"]]]) for name, entry in env_of(container).items() if name in TLS_FILES}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    server, port = build_server(ServiceConfig(stage="rotate", port=0, tls=TlsConfig.from_env()), "RotateService",
                                lambda s: stages_pb2_grpc.add_RotateServiceServicer_to_server(
                                    stages_pb2_grpc.RotateServiceServicer(), s))
    command = container["readinessProbe"]["exec"]["command"]
    argv = [sys.executable, *command[1:3], str(port), *command[4:]]  # this machine's python, the test's port

    def run(environment: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
                              env={k: v for k, v in {**os.environ, **environment}.items() if v})
    try:
        assert run(env).returncode == 0
        without_client = {**env, "GAIT_TLS_CLIENT_CERT": "", "GAIT_TLS_CLIENT_KEY": ""}
        refused = run(without_client)
        assert refused.returncode == 1 and "UNAVAILABLE" in refused.stderr
    finally:
        server.stop(0)


def test_each_component_reads_the_store_with_its_own_credentials(rendered):
    for name, (_, c) in workloads(rendered[SECURE]).items():
        env = env_of(c)
        if "GAIT_STORE" not in env:
            continue
        component = name.split("/")[0].removeprefix("gait-")
        owner = component if component in STAGES else "flows"
        for variable, key in (("GAIT_S3_ACCESS_KEY", "access-key"), ("GAIT_S3_SECRET_KEY", "secret-key")):
            assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": f"gait-s3-{owner}", "key": key}, name
        assert env["GAIT_S3_SECURE"]["value"] == "true" and env["GAIT_S3_CA_FILE"]["value"] == "/etc/gait/s3-ca/ca.crt"


def test_a_component_without_credentials_of_its_own_uses_the_store_wide_ones():
    result = render((), "store.credentials.rotate=gait-s3-rotate")
    assert result.returncode == 0, result.stderr
    r = Rendered("partial", result.stdout, load(result.stdout))
    for stage in STAGES:
        ref = env_of(stage_deployment(r, stage)["spec"]["template"]["spec"]["containers"][0])["GAIT_S3_ACCESS_KEY"]
        expected = {"name": "gait-s3-rotate", "key": "access-key"} if stage == "rotate" else \
            {"name": "gait-minio", "key": "root-user"}
        assert ref["valueFrom"]["secretKeyRef"] == expected, stage


def test_security_variables_are_ones_gait_reads(rendered):
    config = (REPO_ROOT / "gait" / "config.py").read_text()
    known = set(re.findall(r'"(GAIT_[A-Z0-9_]+)"', config))
    for name, (_, c) in workloads(rendered[SECURE]).items():
        for variable in env_of(c):
            if variable.startswith(("GAIT_TLS_", "GAIT_S3_")):
                assert variable in known, (name, variable)

