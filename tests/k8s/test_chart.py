"""The Helm chart under k8s/, rendered by the real helm binary with every example values file.

What is checked on the rendered objects: Kubernetes' own JSON schemas (strict: unknown fields
fail) for the oldest and a current supported version; restricted pod security everywhere;
native gRPC probes on the services' ports; GPU requests, node selectors and tolerations on and
off; who may reach whom under the NetworkPolicies (computed from the selectors, not read from
names); no credential in plain text; an HPA and a PDB per service; the registration hook and the
helm tests, whose commands must parse with gait's own CLI; the environment names gait reads.
"""
from __future__ import annotations

import base64
import re
import shlex

import kubernetes_validate
import pytest
import yaml

from gait.config import REPO_ROOT
from gait.contracts import STAGES
from gaitcli.main import build_parser
from tests.k8s.conftest import CHART, NAMESPACE, SCENARIOS, Rendered, helm, render
from tests.k8s.conftest import load as load_all

GPU = "nvidia.com/gpu"
GPU_STAGES = {"pose2d", "lift3d"}
KUBERNETES_VERSIONS = ("1.27", "1.35")  # the chart's kubeVersion floor, and helm 4.1's client


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def component(obj: dict) -> str:
    return obj["metadata"]["labels"]["app.kubernetes.io/component"]


def stage_deployment(r: Rendered, stage: str) -> dict:
    return r.get("Deployment", f"gait-{stage}")


# -- helm itself ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
def test_helm_lint_strict(scenario):
    args = ["lint", str(CHART), "--strict", "--namespace", NAMESPACE]
    for path in SCENARIOS[scenario]:
        args += ["-f", str(path)]
    result = helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(("sets", "message"), [
    (("minio.enabled=false",), "store.external.endpoint is required"),
    (("minio.enabled=false", "store.external.endpoint=s3.example:443"), "store.existingSecret is required"),
    (("prefect.database.type=external",), "prefect.database.external.existingSecret is required"),
    (("prefect.database.type=mysql",), "must be postgresql, external or sqlite"),
])
def test_incomplete_values_are_refused(sets, message):
    result = render((), *sets)
    assert result.returncode != 0
    assert message in result.stderr


# -- Kubernetes schemas --------------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_manifests_validate_against_kubernetes_schemas(rendered, scenario, version):
    errors = []
    for obj in rendered[scenario].objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_schema_validation_catches_a_typo():
    """The validation above is live: a misspelt field or a wrong type is an error."""
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
           "spec": {"ports": [{"port": "grpc"}], "selectr": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.35", strict=True)


# -- the four services: one template, Deployment + Service + HPA + PDB each ---------------------------

def test_services_come_from_one_template():
    templates = sorted(p.name for p in (CHART / "templates").rglob("*") if p.is_file())
    per_stage = [name for name in templates if name != "test-services.yaml" and any(s in name for s in STAGES)]
    assert not per_stage, f"per-service templates: {per_stage}"
    text = (CHART / "templates" / "services.yaml").read_text()
    assert "range $stage, $svc := .Values.services" in text
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert sorted(values["services"]) == sorted(STAGES)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_service_has_deployment_service_hpa_pdb(rendered, scenario):
    r = rendered[scenario]
    for stage in STAGES:
        name = f"gait-{stage}"
        deployment = stage_deployment(r, stage)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        service, hpa, pdb = r.get("Service", name), r.get("HorizontalPodAutoscaler", name), r.get("PodDisruptionBudget", name)
        assert selects(service["spec"]["selector"], pod_labels)
        assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        metric = hpa["spec"]["metrics"][0]["resource"]
        assert metric["name"] == "cpu" and 0 < metric["target"]["averageUtilization"] <= 100
        # HPA utilisation is relative to requests: every service container must request CPU
        assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
    assert len(r.of_kind("HorizontalPodAutoscaler")) == len(r.of_kind("PodDisruptionBudget")) == len(STAGES)


def test_production_keeps_two_pods_of_every_stage_through_a_drain(rendered):
    r = rendered["production"]
    for stage in STAGES:
        assert r.get("HorizontalPodAutoscaler", f"gait-{stage}")["spec"]["minReplicas"] >= 2
        assert r.get("PodDisruptionBudget", f"gait-{stage}")["spec"]["minAvailable"] == 1


def test_default_pdbs_never_block_a_drain(rendered):
    for pdb in rendered["defaults"].of_kind("PodDisruptionBudget"):
        assert pdb["spec"] == {**pdb["spec"], "maxUnavailable": 1}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_services_use_native_grpc_probes_on_their_port(rendered, scenario):
    """Without TLS (which the kubelet's gRPC probe cannot speak: tests/k8s/test_chart_tls.py)."""
    r = rendered[scenario]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for stage in STAGES:
        container = stage_deployment(r, stage)["spec"]["template"]["spec"]["containers"][0]
        port = values["services"][stage]["port"]
        # the image's entrypoint (`python -m services.<stage>`) serves: no command, no args
        assert "args" not in container and "command" not in container
        assert container["ports"] == [{"name": "grpc", "containerPort": port, "protocol": "TCP"}]
        env = env_of(container)
        assert env[f"GAIT_{stage.upper()}_PORT"]["value"] == str(port)
        assert env["GAIT_HOST"]["value"] == "0.0.0.0"
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            expected = "exec" if "GAIT_TLS_CERT" in env else "grpc"
            assert expected in container[probe], f"{stage} {probe}"
            if expected == "grpc":
                assert container[probe]["grpc"] == {"port": port}, f"{stage} {probe}"
        assert r.get("Service", f"gait-{stage}")["spec"]["ports"][0]["port"] == port


# -- pod security ----------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_is_restricted(rendered, scenario):
    for where, spec in rendered[scenario].pod_specs():
        assert spec["automountServiceAccountToken"] is False, where
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, where
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC"), where
        for volume in spec.get("volumes", []):
            assert "hostPath" not in volume, where
        for c in containers(spec):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, (where, c["name"])
            assert sc["readOnlyRootFilesystem"] is True, (where, c["name"])
            assert sc["privileged"] is False, (where, c["name"])
            assert sc["capabilities"] == {"drop": ["ALL"]}, (where, c["name"])
            assert sc["runAsNonRoot"] is True, (where, c["name"])
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][kind]), (where, c["name"], kind)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_names_its_namespace_and_pods_use_the_chart_account(rendered, scenario):
    r = rendered[scenario]
    for obj in r.objects:
        assert obj["metadata"].get("namespace") == NAMESPACE, (obj["kind"], obj["metadata"]["name"])
    account = r.get("ServiceAccount", "gait")
    assert account["automountServiceAccountToken"] is False
    assert not r.of_kind("Role") and not r.of_kind("RoleBinding") and not r.of_kind("ClusterRoleBinding")
    for where, spec in r.pod_specs():
        assert spec["serviceAccountName"] == "gait", where
        # a uid of its own, above the range of users a node may have (checkov CKV_K8S_40)
        assert spec["securityContext"]["runAsUser"] >= 10000, where


def test_worker_is_ready_only_while_it_polls(rendered):
    container = rendered["defaults"].get("Deployment", "gait-prefect-worker")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "health"}
    assert "--with-healthcheck" in container["command"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_gait_containers_write_only_to_their_volumes(rendered, scenario):
    """Read-only root: HOME, /tmp, GAIT_HOME, PREFECT_HOME and matplotlib's cache are emptyDirs; a
    container that writes bundles names the pod's service account in their audit trail."""
    for where, spec in rendered[scenario].pod_specs():
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in containers(spec):
            if not c["image"].split("/")[-1].startswith("gait-"):
                continue
            mounts = {m["mountPath"]: volumes[m["name"]] for m in c.get("volumeMounts", [])}
            assert "emptyDir" in mounts["/tmp"] and "emptyDir" in mounts["/home/gait"], (where, c["name"])
            env = env_of(c)
            assert env["HOME"]["value"] == "/home/gait", (where, c["name"])
            for name in ("GAIT_HOME", "PREFECT_HOME", "MPLCONFIGDIR"):
                if name in env:
                    assert env[name]["value"].startswith(("/home/gait/", "/tmp/")), (where, name)
            if "GAIT_STORE" not in env:
                continue
            names = list(env)  # what writes bundles names the pod's account in the audit trail (defined before use)
            assert env["GAIT_SERVICE_ACCOUNT"]["value"] == "system:serviceaccount:$(POD_NAMESPACE):$(POD_SERVICE_ACCOUNT)"
            assert env["POD_SERVICE_ACCOUNT"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.serviceAccountName"
            assert names.index("POD_SERVICE_ACCOUNT") < names.index("GAIT_SERVICE_ACCOUNT"), (where, c["name"])


# -- GPUs ------------------------------------------------------------------------------------------

def test_gpu_services_request_gpus_and_gpu_nodes(rendered):
    r = rendered["defaults"]
    for stage in STAGES:
        spec = stage_deployment(r, stage)["spec"]["template"]["spec"]
        resources = spec["containers"][0]["resources"]
        tolerations = spec.get("tolerations", [])
        if stage in GPU_STAGES:
            assert resources["limits"][GPU] == 1 and resources["requests"][GPU] == 1
            assert spec["nodeSelector"]["nvidia.com/gpu.present"] == "true"
            assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in tolerations
            assert "CUDA_VISIBLE_DEVICES" not in env_of(spec["containers"][0])
        else:
            assert GPU not in resources["limits"] and GPU not in resources["requests"]
            assert "nodeSelector" not in spec and not tolerations


def test_shared_gpus_are_requested_by_their_slice_name(rendered):
    r = rendered["gpu-shared"]
    for stage in ("pose2d", "lift3d"):
        resources = stage_deployment(r, stage)["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert resources["requests"]["nvidia.com/gpu.shared"] == resources["limits"]["nvidia.com/gpu.shared"] == 1
        assert GPU not in resources["requests"] and GPU not in resources["limits"]
    pose2d = stage_deployment(r, "pose2d")["spec"]["template"]["spec"]["containers"][0]
    assert pose2d["resources"]["requests"]["cpu"] == "4" and env_of(pose2d)["GAIT_NUM_THREADS"]["value"] == "4"


def test_gpu_off_requests_no_gpu_anywhere(rendered):
    r = rendered["cpu-only"]
    assert GPU not in r.text and "gpu.present" not in r.text
    for stage in STAGES:
        container = stage_deployment(r, stage)["spec"]["template"]["spec"]["containers"][0]
        assert env_of(container)["CUDA_VISIBLE_DEVICES"]["value"] == ""
        assert env_of(container)["NVIDIA_VISIBLE_DEVICES"]["value"] == "void"
    # GPU pods are replaced in place (no surge onto a full GPU node); CPU pods surge
    assert stage_deployment(rendered["defaults"], "pose2d")["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    assert stage_deployment(r, "pose2d")["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 1


def test_models_claim_is_mounted_read_only_on_gpu_services(rendered):
    r = rendered["production"]
    for stage in STAGES:
        spec = stage_deployment(r, stage)["spec"]["template"]["spec"]
        claims = [v for v in spec["volumes"] if "persistentVolumeClaim" in v]
        env = env_of(spec["containers"][0])
        if stage in GPU_STAGES:
            assert claims == [{"name": "models", "persistentVolumeClaim": {"claimName": "gait-models", "readOnly": True}}]
            assert env["GAIT_MODELS_DIR"]["value"] == "/models"
            assert {"name": "models", "mountPath": "/models", "readOnly": True} in spec["containers"][0]["volumeMounts"]
        else:
            assert not claims and "GAIT_MODELS_DIR" not in env


# -- network ---------------------------------------------------------------------------------------

def selects(match_labels: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


def selector_matches(selector: dict, labels: dict) -> bool:
    if not selects(selector.get("matchLabels", {}), labels):
        return False
    for expr in selector.get("matchExpressions", []):
        value, op = labels.get(expr["key"]), expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


def pods(r: Rendered) -> dict[str, dict]:
    """name -> pod labels of every pod the release makes."""
    out = {}
    for o in r.objects:
        if o["kind"] in ("Deployment", "StatefulSet", "Job"):
            out[o["metadata"]["name"]] = o["spec"]["template"]["metadata"]["labels"]
        elif o["kind"] == "Pod":
            out[o["metadata"]["name"]] = o["metadata"]["labels"]
    return out


def policies_of(r: Rendered, labels: dict, direction: str) -> list[dict]:
    """The NetworkPolicies of `direction` (Ingress or Egress) that select a pod with `labels`."""
    return [p for p in r.of_kind("NetworkPolicy")
            if direction in p["spec"]["policyTypes"] and selector_matches(p["spec"]["podSelector"], labels)]


def rule_allows(rule: dict, peer_key: str, labels: dict | None, port: int, protocol: str = "TCP") -> bool:
    """Does one ingress/egress rule let traffic to/from a release pod with `labels` (None: an
    address outside the cluster) through on `port`? Only same-namespace podSelector peers match
    a release pod; only ipBlock peers match an outside address."""
    if "ports" in rule and not any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in rule["ports"]):
        return False
    for peer in rule.get(peer_key, []):
        if labels is None and "ipBlock" in peer:
            return True
        if labels is not None and "podSelector" in peer and "namespaceSelector" not in peer \
                and selector_matches(peer["podSelector"], labels):
            return True
    return False


def may_connect(r: Rendered, source: str, target: str, port: int) -> bool:
    """May release pod `source` open a TCP connection to release pod `target` on `port`? Both
    ends must allow it: the target's ingress policies and the source's egress policies (a pod no
    policy of a direction selects is open in that direction)."""
    all_pods = pods(r)
    ingress = policies_of(r, all_pods[target], "Ingress")
    egress = policies_of(r, all_pods[source], "Egress")
    ingress_ok = not ingress or any(rule_allows(rule, "from", all_pods[source], port)
                                    for p in ingress for rule in p["spec"].get("ingress", []))
    egress_ok = not egress or any(rule_allows(rule, "to", all_pods[target], port)
                                  for p in egress for rule in p["spec"].get("egress", []))
    return ingress_ok and egress_ok


def allowed_peers(r: Rendered, target: str, port: int) -> set[str]:
    """The release's pods that may open a connection to pod `target` on `port`."""
    return {source for source in pods(r) if source != target and may_connect(r, source, target, port)}


def may_leave_cluster(r: Rendered, source: str, port: int) -> bool:
    """May release pod `source` connect to an address outside the cluster on TCP `port`?"""
    egress = policies_of(r, pods(r)[source], "Egress")
    assert egress, f"{source}: no egress policy"
    return any(rule_allows(rule, "to", None, port) for p in egress for rule in p["spec"].get("egress", []))


@pytest.mark.parametrize("scenario", ["defaults", "production", "sqlite", "external-s3"])
def test_network_policies_allow_only_the_needed_paths(rendered, scenario):
    r = rendered[scenario]
    all_pods = pods(r)
    tests = {name for name in all_pods if "-test-" in name}
    services = {f"gait-{stage}" for stage in STAGES}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    # default deny both ways: every pod of the release is selected by an Ingress and an Egress policy
    for name, labels in all_pods.items():
        assert policies_of(r, labels, "Ingress") and policies_of(r, labels, "Egress"), name
    for stage in STAGES:
        peers = allowed_peers(r, f"gait-{stage}", values["services"][stage]["port"])
        assert peers == {"gait-prefect-worker", *tests}, (stage, peers)
    if "gait-minio" in all_pods:
        assert allowed_peers(r, "gait-minio", 9000) == {*services, "gait-prefect-worker", "gait-test-flow"}
    assert allowed_peers(r, "gait-prefect-server", 4200) == {"gait-prefect-worker", "gait-register", "gait-test-flow"}
    if "gait-postgresql" in all_pods:
        assert allowed_peers(r, "gait-postgresql", 5432) == {"gait-prefect-server"}
    for quiet in ("gait-prefect-worker", "gait-register", *tests):
        assert allowed_peers(r, quiet, 8080) == set(), quiet
    # nothing else: no pod of the release connects to any other on any port the chart uses
    ports = {9000, 4200, 5432, 8080, *(values["services"][s]["port"] for s in STAGES)}
    allowed = {(s, t) for s in all_pods for t in all_pods if s != t and any(may_connect(r, s, t, p) for p in ports)}
    expected = {(s, f"gait-{stage}") for stage in STAGES for s in ("gait-prefect-worker", *tests)}
    expected |= {(s, "gait-minio") for s in (*services, "gait-prefect-worker", "gait-test-flow") if "gait-minio" in all_pods}
    expected |= {(s, "gait-prefect-server") for s in ("gait-prefect-worker", "gait-register", "gait-test-flow")}
    expected |= {("gait-prefect-server", "gait-postgresql")} if "gait-postgresql" in all_pods else set()
    assert allowed == expected, sorted(allowed ^ expected)


@pytest.mark.parametrize("scenario", ["defaults", "external-s3", "production"])
def test_egress_leaves_the_cluster_only_for_an_external_store_or_database(rendered, scenario):
    r = rendered[scenario]
    external_store = scenario == "external-s3"
    external_db = scenario == "production"
    for name, labels in pods(r).items():
        store_client = labels.get("gait.io/store") == "true"
        assert may_leave_cluster(r, name, 9000) == (external_store and store_client), name
        assert may_leave_cluster(r, name, 5432) == (external_db and name == "gait-prefect-server"), name
        assert not may_leave_cluster(r, name, 443), name


def test_every_pod_may_resolve_names_and_only_at_the_cluster_dns(rendered):
    r = rendered["defaults"]
    dns = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]
    for name, labels in pods(r).items():
        rules = [rule for p in policies_of(r, labels, "Egress") for rule in p["spec"]["egress"]
                 if any(port["port"] == 53 for port in rule.get("ports", []))]
        assert rules and all(rule["to"] == dns for rule in rules), name
        assert {(p["protocol"], p["port"]) for rule in rules for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_external_store_egress_follows_the_endpoint_port():
    result = render((CHART / "examples" / "values-external-s3.yaml",), "store.external.endpoint=s3.example.org",
                    "networkPolicy.externalStore[0].ipBlock.cidr=10.20.0.0/16")
    assert result.returncode == 0, result.stderr
    policy = next(o for o in load_all(result.stdout) if o["kind"] == "NetworkPolicy"
                  and o["metadata"]["name"] == "gait-store-egress")
    assert policy["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
                                         "ports": [{"protocol": "TCP", "port": 443}]}]


def test_ui_ingress_peers_come_from_values(rendered):
    policy = rendered["production"].get("NetworkPolicy", "gait-prefect-server")
    sources = policy["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}} in sources


# -- credentials -----------------------------------------------------------------------------------

SENSITIVE = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|AUTH|ROOT_USER|CONNECTION_URL")


def secret_file(spec: dict, container: dict, path: str) -> bool:
    """Is `path` inside a volume of a Secret that `container` mounts?"""
    secrets = {v["name"] for v in spec.get("volumes", []) if "secret" in v}
    return any(m["name"] in secrets and path.startswith(m["mountPath"].rstrip("/") + "/")
               for m in container.get("volumeMounts", []))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_credential_in_plain_text(rendered, scenario):
    r = rendered[scenario]
    for where, spec in r.pod_specs():
        for c in containers(spec):
            for name, entry in env_of(c).items():
                if SENSITIVE.search(name):
                    value = entry.get("value")
                    # the only literals allowed: a URL whose password is the kubelet-expanded
                    # $(POSTGRES_PASSWORD) of a secretKeyRef variable, SQLite's file URL, and the
                    # path of a file mounted from a Secret (GAIT_TLS_KEY: the key stays in the Secret)
                    assert "secretKeyRef" in entry.get("valueFrom", {}) or (
                        value and ":$(POSTGRES_PASSWORD)@" in value and "POSTGRES_PASSWORD" in env_of(c)) or (
                        value and value.startswith("sqlite+aiosqlite:///") and "@" not in value) or (
                        value and secret_file(spec, c, value)), (where, name)
    for obj in r.of_kind("ConfigMap"):
        assert not any(SENSITIVE.search(k.upper()) for k in obj.get("data", {})), obj["metadata"]["name"]


def test_values_hold_no_credentials():
    values = (CHART / "values.yaml").read_text()
    for line in values.splitlines():
        code = line.split("#")[0]
        if re.search(r"(password|secret|accessKey|token)\w*:\s*\S", code, re.IGNORECASE):
            name, _, value = code.partition(":")
            assert value.strip() in ('""', "") or name.strip().endswith(("Key", "existingSecret", "pullSecrets")), line


def test_generated_secrets_are_random_and_kept(rendered):
    first = rendered["defaults"]
    second = render()
    assert second.returncode == 0
    again = {o["metadata"]["name"]: o for o in load_all(second.stdout)
             if o["kind"] == "Secret"}
    secrets = first.of_kind("Secret")
    assert {s["metadata"]["name"] for s in secrets} == {"gait-minio", "gait-prefect-auth", "gait-postgresql"}
    for secret in secrets:
        for key, value in secret["data"].items():
            plain = base64.b64decode(value).decode()
            assert len(plain) >= 20, (secret["metadata"]["name"], key)
            assert again[secret["metadata"]["name"]]["data"][key] != value, "a fresh install must not reuse a value"
    # an upgrade keeps them: helm looks the Secret up first (kept also on uninstall, so the
    # data stay readable)
    assert first.get("Secret", "gait-minio")["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert 'lookup "v1" "Secret"' in (CHART / "templates" / "_helpers.tpl").read_text()


def test_external_s3_uses_the_given_endpoint_and_secret(rendered):
    r = rendered["external-s3"]
    assert not [o for o in r.objects if "minio" in o["metadata"]["name"]]
    assert not [s for s in r.of_kind("Secret") if "minio" in s["metadata"]["name"]]
    for where, spec in r.pod_specs():
        for c in containers(spec):
            env = env_of(c)
            if "GAIT_S3_ENDPOINT" not in env:
                continue
            assert env["GAIT_S3_ENDPOINT"]["value"] == "minio.storage.svc.cluster.local:9000"
            assert env["GAIT_S3_SECURE"]["value"] == "true"
            assert env["GAIT_S3_BUCKET"]["value"] == "gait-archive"
            for name, key in (("GAIT_S3_ACCESS_KEY", "access-key"), ("GAIT_S3_SECRET_KEY", "secret-key")):
                assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "gait-s3", "key": key}, where


def test_bundled_minio_is_the_default_store(rendered):
    r = rendered["defaults"]
    minio = r.get("StatefulSet", "gait-minio")
    assert minio["spec"]["replicas"] == 1
    assert minio["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "200Gi"
    env = env_of(stage_deployment(r, "rotate")["spec"]["template"]["spec"]["containers"][0])
    assert env["GAIT_STORE"]["value"] == "s3"
    assert env["GAIT_S3_ENDPOINT"]["value"] == "gait-minio:9000"
    assert env["GAIT_S3_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "gait-minio", "key": "root-user"}


# -- Prefect ---------------------------------------------------------------------------------------

def server_env(r: Rendered) -> dict[str, dict]:
    return env_of(r.get("Deployment", "gait-prefect-server")["spec"]["template"]["spec"]["containers"][0])


def test_prefect_database_choices(rendered):
    default = server_env(rendered["defaults"])
    assert default["PREFECT_API_DATABASE_CONNECTION_URL"]["value"] == \
        "postgresql+asyncpg://prefect:$(POSTGRES_PASSWORD)@gait-postgresql:5432/prefect"
    assert list(default).index("POSTGRES_PASSWORD") < list(default).index("PREFECT_API_DATABASE_CONNECTION_URL"), \
        "$(VAR) expands only variables defined before it"
    rendered["defaults"].get("StatefulSet", "gait-postgresql")
    sqlite = rendered["sqlite"]
    assert server_env(sqlite)["PREFECT_API_DATABASE_CONNECTION_URL"]["value"].startswith("sqlite+aiosqlite:////var/lib/prefect/")
    assert sqlite.get("PersistentVolumeClaim", "gait-prefect-server")
    assert not [o for o in sqlite.objects if "postgresql" in o["metadata"]["name"]]
    external = server_env(rendered["production"])["PREFECT_API_DATABASE_CONNECTION_URL"]
    assert external["valueFrom"]["secretKeyRef"] == {"name": "gait-prefect-db", "key": "connection-url"}
    for r in rendered.values():
        server = r.get("Deployment", "gait-prefect-server")
        assert server["spec"]["replicas"] == 1 and server["spec"]["strategy"]["type"] == "Recreate"


def test_worker_polls_a_process_pool_with_the_flows_environment(rendered):
    r = rendered["defaults"]
    container = r.get("Deployment", "gait-prefect-worker")["spec"]["template"]["spec"]["containers"][0]
    command = container["command"]
    assert command[:3] == ["prefect", "worker", "start"]
    assert command[command.index("--pool") + 1] == "gait" and command[command.index("--type") + 1] == "process"
    assert container["image"] == "gait-flows:0.1.0"
    env = env_of(container)
    for stage in STAGES:
        assert env[f"GAIT_{stage.upper()}_ADDR"]["value"] == f"gait-{stage}:{r.get('Service', f'gait-{stage}')['spec']['ports'][0]['port']}"
    assert env["PREFECT_API_URL"]["value"] == "http://gait-prefect-server:4200/api"
    assert env["PREFECT_API_AUTH_STRING"]["valueFrom"]["secretKeyRef"]["name"] == "gait-prefect-auth"
    assert server_env(r)["PREFECT_SERVER_API_AUTH_STRING"]["valueFrom"]["secretKeyRef"]["name"] == "gait-prefect-auth"


def test_registration_hook_runs_gait_deploy_on_the_pool(rendered):
    job = rendered["defaults"].get("Job", "gait-register")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["containers"][0]["command"] == ["gait", "deploy", "--work-pool", "gait"]
    assert spec["initContainers"][0]["command"][:3] == ["gait", "health", "--prefect"]


def test_helm_tests_check_every_service_and_run_the_flow(rendered):
    r = rendered["defaults"]
    tests = [p for p in r.of_kind("Pod") if p["metadata"]["annotations"].get("helm.sh/hook") == "test"]
    commands = {p["metadata"]["name"]: p["spec"]["containers"][0]["command"] for p in tests}
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for stage in STAGES:
        svc = values["services"][stage]
        assert commands[f"gait-test-{stage}"][:5] == ["gait", "health", f"gait-{stage}:{svc['port']}", "--service",
                                                      svc["grpcService"]]
    assert commands["gait-test-flow"] == ["gait", "health", "--flow", "--work-pool", "gait"]
    assert len(tests) == len(STAGES) + 1


def test_grpc_service_names_are_the_stages_services():
    from gait.v1 import stages_pb2

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    names = {s.full_name for s in stages_pb2.DESCRIPTOR.services_by_name.values()}
    for stage in STAGES:
        assert values["services"][stage]["grpcService"] in names, stage


def test_every_gait_command_of_the_chart_parses(rendered):
    """The chart runs `gait ...` commands: each must be one gait's CLI accepts, and only in the
    flows image (the stage images hold no command line: their entrypoint serves the stage)."""
    parser = build_parser()
    seen = set()
    for where, spec in rendered["defaults"].pod_specs():
        for c in containers(spec):
            argv = c.get("command") or []
            repository = c["image"].split("/")[-1].split(":")[0].split("@")[0]
            if repository in {f"gait-{s}" for s in STAGES}:
                assert not argv and not c.get("args"), f"{where}: {repository} runs {argv} {c.get('args')}"
                continue
            if argv[:1] == ["gait"]:
                assert repository == "gait-flows", f"{where}: `gait` runs in {repository}"
                args = argv[1:]
            else:
                continue
            try:
                parser.parse_args(args)
            except SystemExit:
                pytest.fail(f"{where}: `gait {shlex.join(args)}` is not a gait command")
            seen.add(args[0])
    assert seen == {"deploy", "health"}


def test_environment_names_are_ones_gait_reads(rendered):
    sources = "\n".join(p.read_text() for d in ("gait", "services", "flows") for p in (REPO_ROOT / d).rglob("*.py"))
    known = set(re.findall(r"GAIT_[A-Z0-9_]+", sources))
    for stage in STAGES:
        known |= {f"GAIT_{stage.upper()}_{suffix}" for suffix in ("HOST", "PORT", "ADDR", "BACKEND")}
    for where, spec in rendered["defaults"].pod_specs():
        for c in containers(spec):
            for name in env_of(c):
                if name.startswith("GAIT_"):
                    assert name in known, (where, name)


def test_third_party_images_are_pinned_by_digest(rendered):
    for where, spec in rendered["defaults"].pod_specs():
        for c in containers(spec):
            image = c["image"]
            if not image.startswith("gait-"):
                assert re.search(r":[\w.-]+@sha256:[0-9a-f]{64}$", image), (where, image)


def test_image_registry_tag_and_digest(rendered):
    r = render((), "image.registry=registry.example/gait", "image.tag=1.2.3",
               "services.pose2d.image.digest=sha256:" + "a" * 64)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert 'image: "registry.example/gait/gait-rotate:1.2.3"' in text
    assert 'image: "registry.example/gait/gait-pose2d@sha256:' + "a" * 64 + '"' in text
    assert 'image: "registry.example/gait/gait-flows:1.2.3"' in text


def test_an_hpa_metric_can_replace_cpu():
    """A GPU service can scale on GPU utilisation (DCGM via prometheus-adapter) instead of CPU."""
    metric = {"type": "Pods", "pods": {"metric": {"name": "DCGM_FI_DEV_GPU_UTIL"},
                                        "target": {"type": "AverageValue", "averageValue": "80"}}}
    prefix = "services.pose2d.autoscaling.metrics[0]"
    result = render((), f"{prefix}.type=Pods", f"{prefix}.pods.metric.name=DCGM_FI_DEV_GPU_UTIL",
                    f"{prefix}.pods.target.type=AverageValue", f"{prefix}.pods.target.averageValue=80")
    assert result.returncode == 0, result.stderr
    hpas = {o["metadata"]["name"]: o for o in load_all(result.stdout) if o["kind"] == "HorizontalPodAutoscaler"}
    assert hpas["gait-pose2d"]["spec"]["metrics"] == [{**metric, "pods": {**metric["pods"], "target": {
        "type": "AverageValue", "averageValue": 80}}}]
    assert hpas["gait-lift3d"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    kubernetes_validate.validate(hpas["gait-pose2d"], KUBERNETES_VERSIONS[-1], strict=True)
