{{/*
Shared plumbing of the gait chart: names, labels, images, security contexts, volumes and the
environment every gait container gets. Templates call these; none repeats them.
*/}}

{{- define "gait.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gait.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component> ("gait-pose2d"). Call with (list $ "pose2d"). */}}
{{- define "gait.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "gait.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component. Call with (list $ "pose2d"). */}}
{{- define "gait.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "gait.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* All labels of a component's objects. Call with (list $ "pose2d"). */}}
{{- define "gait.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gait.selectorLabels" . }}
app.kubernetes.io/part-of: gait
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- end -}}

{{/*
Role labels that the NetworkPolicies select on (templates/networkpolicies.yaml):
  gait.io/flows: "true"   - runs flows: may call the four services, MinIO and the Prefect API
  gait.io/store: "true"   - may reach MinIO (the services)
  gait.io/prefect: "true" - may reach the Prefect API (worker, registration job, tests)
*/}}
{{- define "gait.role.flows" -}}
gait.io/flows: "true"
gait.io/store: "true"
gait.io/prefect: "true"
{{- end -}}

{{/* An image reference. Call with (list $ imageValues): registry/repository@digest or :tag. */}}
{{- define "gait.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $repository := $image.repository -}}
{{- if $root.Values.image.registry -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $root.Values.image.registry) $image.repository -}}
{{- end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default $root.Chart.AppVersion $root.Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* A third-party image pinned by tag and digest (MinIO, PostgreSQL). */}}
{{- define "gait.thirdPartyImage" -}}
{{- if .digest -}}
{{- printf "%s:%s@%s" .repository .tag .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{- define "gait.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings every pod of the chart shares. Call with (list $ podSecurityContext). */}}
{{- define "gait.podSpecCommon" -}}
{{- $root := index . 0 -}}
serviceAccountName: {{ include "gait.serviceAccountName" $root }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
{{ toYaml (index . 1) | indent 2 }}
{{- include "gait.imagePullSecrets" $root }}
{{- end -}}

{{- define "gait.containerSecurityContext" -}}
securityContext:
{{ toYaml .Values.containerSecurityContext | indent 2 }}
{{- end -}}

{{/* Writable scratch of a gait container: HOME (GAIT_HOME, PREFECT_HOME, caches) and /tmp. */}}
{{- define "gait.scratchVolumes" -}}
- name: home
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
{{- end -}}

{{- define "gait.scratchMounts" -}}
- name: home
  mountPath: /home/gait
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "gait.minio.secretName" -}}
{{- default (include "gait.componentName" (list . "minio")) .Values.minio.existingSecret -}}
{{- end -}}

{{/* The Secret with the S3 credentials of the gait pods, and its two keys. */}}
{{- define "gait.store.secretName" -}}
{{- if .Values.store.existingSecret -}}
{{- .Values.store.existingSecret -}}
{{- else if .Values.minio.enabled -}}
{{- include "gait.minio.secretName" . -}}
{{- else -}}
{{- fail "store.existingSecret is required with an external S3 endpoint (minio.enabled=false)" -}}
{{- end -}}
{{- end -}}

{{/*
The Secret with one component's S3 credentials (rotate, pose2d, lift3d, analysis or flows):
store.credentials.<component>, else the store-wide one. Call with (list $ component).
*/}}
{{- define "gait.store.componentSecretName" -}}
{{- $root := index . 0 -}}
{{- $own := get $root.Values.store.credentials (index . 1) -}}
{{- if $own -}}{{ $own }}{{- else -}}{{ include "gait.store.secretName" $root }}{{- end -}}
{{- end -}}

{{/* The key names in that Secret: the configured ones in any Secret of yours, MinIO's in its own. */}}
{{- define "gait.store.componentKey" -}}
{{- $root := index . 0 -}}
{{- $userKey := ternary $root.Values.store.accessKeyKey $root.Values.store.secretKeyKey (eq (index . 2) "access") -}}
{{- if or (get $root.Values.store.credentials (index . 1)) $root.Values.store.existingSecret -}}
{{- $userKey -}}
{{- else -}}
{{- ternary $root.Values.minio.rootUserKey $root.Values.minio.rootPasswordKey (eq (index . 2) "access") -}}
{{- end -}}
{{- end -}}

{{- define "gait.store.endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- printf "%s:9000" (include "gait.componentName" (list . "minio")) -}}
{{- else if .Values.store.external.endpoint -}}
{{- .Values.store.external.endpoint -}}
{{- else -}}
{{- fail "store.external.endpoint is required when minio.enabled=false" -}}
{{- end -}}
{{- end -}}

{{- define "gait.prefect.authSecretName" -}}
{{- default (include "gait.componentName" (list . "prefect-auth")) .Values.prefect.auth.existingSecret -}}
{{- end -}}

{{- define "gait.prefect.apiUrl" -}}
{{- printf "http://%s:%d/api" (include "gait.componentName" (list . "prefect-server")) (int .Values.prefect.server.port) -}}
{{- end -}}

{{/*
Environment of every gait container: homes on the writable volumes, no telemetry, the store with
the component's own credentials. Call with (list $ component): a stage, or "flows".
*/}}
{{- define "gait.env.common" -}}
{{- $component := index . 1 -}}
{{- with index . 0 }}
- name: HOME
  value: /home/gait
- name: TMPDIR
  value: /tmp
- name: GAIT_HOME
  value: /home/gait/.cache/gait
- name: PREFECT_HOME
  value: /home/gait/.prefect
- name: MPLCONFIGDIR
  value: /tmp/matplotlib
- name: XDG_CACHE_HOME
  value: /home/gait/.cache
- name: DO_NOT_TRACK
  value: "1"
- name: PREFECT_SERVER_ANALYTICS_ENABLED
  value: "false"
- name: GAIT_STORE
  value: s3
- name: GAIT_S3_ENDPOINT
  value: {{ include "gait.store.endpoint" . | quote }}
- name: GAIT_S3_BUCKET
  value: {{ .Values.store.bucket | quote }}
- name: GAIT_S3_REGION
  value: {{ .Values.store.region | quote }}
- name: GAIT_S3_SECURE
  value: {{ ternary "false" (ternary "true" "false" .Values.store.external.secure) .Values.minio.enabled | quote }}
{{- if and (not .Values.minio.enabled) .Values.store.external.caSecret }}
- name: GAIT_S3_CA_FILE
  value: /etc/gait/s3-ca/ca.crt
{{- end }}
- name: GAIT_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "gait.store.componentSecretName" (list . $component) }}
      key: {{ include "gait.store.componentKey" (list . $component "access") }}
- name: GAIT_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "gait.store.componentSecretName" (list . $component) }}
      key: {{ include "gait.store.componentKey" (list . $component "secret") }}
- name: GAIT_RPC_TIMEOUT_S
  value: {{ .Values.config.rpcTimeoutS | quote }}
- name: GAIT_MAX_WORKERS
  value: {{ .Values.config.maxWorkers | quote }}
- name: GAIT_MAX_CONCURRENT
  value: {{ .Values.config.maxConcurrent | quote }}
- name: GAIT_MAX_LONG_SIDE
  value: {{ .Values.config.maxLongSide | quote }}
- name: GAIT_BUSY_WAIT_S
  value: {{ .Values.config.busyWaitS | quote }}
- name: GAIT_GRACE_S
  value: {{ .Values.config.graceS | quote }}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_SERVICE_ACCOUNT
  valueFrom:
    fieldRef:
      fieldPath: spec.serviceAccountName
- name: GAIT_SERVICE_ACCOUNT  # the audit trail's account: what made each bundle
  value: system:serviceaccount:$(POD_NAMESPACE):$(POD_SERVICE_ACCOUNT)
{{- with .Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment of the pods that run flows or talk to Prefect: where the services and the API are. */}}
{{- define "gait.env.flows" -}}
{{ include "gait.env.common" (list . "flows") }}
{{- range $stage, $svc := .Values.services }}
- name: GAIT_{{ upper $stage }}_ADDR
  value: {{ printf "%s:%d" (include "gait.componentName" (list $ $stage)) (int $svc.port) | quote }}
{{- end }}
- name: PREFECT_API_URL
  value: {{ include "gait.prefect.apiUrl" . | quote }}
{{- if .Values.prefect.auth.enabled }}
- name: PREFECT_API_AUTH_STRING
  valueFrom:
    secretKeyRef:
      name: {{ include "gait.prefect.authSecretName" . }}
      key: auth-string
{{- end }}
{{- end -}}

{{/*
A generated secret value that survives upgrades: the value already in the cluster's Secret when
there is one (helm's lookup), else a new random one. Call with (list $ secretName key length).
*/}}
{{- define "gait.secretValue" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $key := index . 2 -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace $name -}}
{{- if and $existing (hasKey $existing.data $key) -}}
{{- index $existing.data $key -}}
{{- else -}}
{{- randAlphaNum (index . 3) | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
The checkov findings this chart accepts, each with its reason: the one place where the security
scan's findings are justified (k8s/README.md "Security scan"). Everything else checkov reports
is fixed in the templates, and tests/k8s/test_scan.py fails on any new finding. A reason may not
contain "=" (checkov splits the annotation on it).
*/}}
{{- define "gait.checkovReasons" -}}
CKV_K8S_15: >-
  image.pullPolicy is IfNotPresent by default - a gait release tag is never overwritten and Always
  would make every pod start depend on the registry being reachable - pinning the image by digest
  satisfies the check
CKV_K8S_35: >-
  gait and Prefect and MinIO and PostgreSQL read these credentials from environment variables
  only - every value comes from a secretKeyRef (never a literal) and nothing logs the environment
CKV_K8S_43: >-
  the gait images are built per site from this repository so no digest exists when the chart is
  written - set services.<stage>.image.digest and flows.image.digest to pin them (third-party
  images are pinned by digest)
CKV_K8S_8: >-
  a run-to-completion helm test pod has no liveness to probe - it exits 0 or 1 within its --wait
CKV_K8S_9: >-
  a run-to-completion helm test pod serves nothing so readiness does not apply
{{- end -}}

{{/*
checkov.io/skipN annotations for the given check IDs, with their reasons from gait.checkovReasons.
Call with (list "CKV_K8S_35" ...); renders nothing for an empty list.
*/}}
{{- define "gait.checkovSkips" -}}
{{- $reasons := include "gait.checkovReasons" . | fromYaml -}}
{{- range $i, $id := . }}
{{- if not (hasKey $reasons $id) }}
{{- fail (printf "gait.checkovSkips: %s has no reason in gait.checkovReasons" $id) }}
{{- end }}
checkov.io/skip{{ add1 $i }}: {{ printf "%s=%s" $id (get $reasons $id) | quote }}
{{- end }}
{{- end -}}

{{/*
The checkov IDs a gait workload skips: for a gait image without a digest CKV_K8S_43 and (unless
image.pullPolicy is Always) CKV_K8S_15, which a digest satisfies; CKV_K8S_35 when it reads credentials from Secrets, and the extra IDs
given. Call with (dict "root" $ "image" imageValues "secrets" true "extra" (list ...)); an image
of nil means only third-party images (pinned by digest, IfNotPresent).
*/}}
{{- define "gait.workloadSkips" -}}
{{- $skips := list -}}
{{- if and .image (not .image.digest) -}}
{{- if ne .root.Values.image.pullPolicy "Always" }}{{ $skips = append $skips "CKV_K8S_15" }}{{ end -}}
{{- $skips = append $skips "CKV_K8S_43" -}}
{{- end -}}
{{- if .secrets }}{{ $skips = append $skips "CKV_K8S_35" }}{{ end -}}
{{- $skips = concat $skips (default (list) .extra) -}}
{{- include "gait.checkovSkips" $skips | trim -}}
{{- end -}}

{{- define "gait.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gait.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The port of store.external.endpoint (host:port; without a port 443, or 80 when not secure). */}}
{{- define "gait.store.externalPort" -}}
{{- $port := regexFind ":[0-9]+$" (include "gait.store.endpoint" .) | trimPrefix ":" -}}
{{- if $port -}}{{ $port }}{{- else -}}{{ ternary 443 80 .Values.store.external.secure }}{{- end -}}
{{- end -}}

{{/* NetworkPolicy peers outside the cluster: the given list, or any address (IPv4 and IPv6). */}}
{{- define "gait.networkPolicy.externalPeers" -}}
{{- if . -}}
{{ toYaml . }}
{{- else -}}
- ipBlock:
    cidr: 0.0.0.0/0
- ipBlock:
    cidr: ::/0
{{- end -}}
{{- end -}}

{{/*
The external store's CA certificate (store.external.caSecret, GAIT_S3_CA_FILE), for the pods that
talk to the store: a volume and its read-only mount, nothing without it.
*/}}
{{- define "gait.store.caVolume" -}}
{{- if and (not .Values.minio.enabled) .Values.store.external.caSecret }}
- name: s3-ca
  secret:
    secretName: {{ .Values.store.external.caSecret }}
    defaultMode: 0440
    items:
      - key: {{ .Values.store.external.caKey }}
        path: ca.crt
{{- end }}
{{- end -}}

{{- define "gait.store.caMount" -}}
{{- if and (not .Values.minio.enabled) .Values.store.external.caSecret }}
- name: s3-ca
  mountPath: /etc/gait/s3-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/*
TLS of the gRPC hops (tls.*, docs/security.md). A "server" (a stage pod) mounts its certificate,
key and CA from tls.secretName; a "client" (a flows or test pod) only the CA. With tls.mutual both
mount the client certificate of tls.clientSecretName: the flows present it, and so do the
services' own probes. Call each with (list $ role).
*/}}
{{- define "gait.tls.volumes" -}}
{{- $root := index . 0 -}}
{{- $tls := $root.Values.tls -}}
{{- if $tls.enabled }}
- name: tls
  secret:
    secretName: {{ required "tls.secretName (a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt) is required with tls.enabled" $tls.secretName }}
    defaultMode: 0440
    items:
      {{- if eq (index . 1) "server" }}
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      {{- end }}
      - {key: ca.crt, path: ca.crt}
{{- if $tls.mutual }}
- name: tls-client
  secret:
    secretName: {{ required "tls.clientSecretName (a kubernetes.io/tls Secret with the client certificate) is required with tls.mutual" $tls.clientSecretName }}
    defaultMode: 0440
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- end }}
{{- end -}}

{{- define "gait.tls.mounts" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/gait/tls
  readOnly: true
{{- if .Values.tls.mutual }}
- name: tls-client
  mountPath: /etc/gait/tls-client
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{- define "gait.tls.env" -}}
{{- $tls := (index . 0).Values.tls -}}
{{- if $tls.enabled }}
{{- if eq (index . 1) "server" }}
- name: GAIT_TLS_CERT
  value: /etc/gait/tls/tls.crt
- name: GAIT_TLS_KEY
  value: /etc/gait/tls/tls.key
{{- if $tls.mutual }}
- name: GAIT_TLS_CLIENT_CA
  value: /etc/gait/tls/ca.crt
{{- end }}
{{- end }}
- name: GAIT_TLS_CA
  value: /etc/gait/tls/ca.crt
{{- if $tls.mutual }}
- name: GAIT_TLS_CLIENT_CERT
  value: /etc/gait/tls-client/tls.crt
- name: GAIT_TLS_CLIENT_KEY
  value: /etc/gait/tls-client/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{/*
The probe action of a stage service. Without TLS the kubelet's native gRPC probe on its port;
with TLS (which that probe cannot speak) `python -m gait.probe PORT NAME` in the container: the
health service on 127.0.0.1 over the pod's TLS settings, the certificate checked for the Service's
name. Call with (list $ port serviceName).
*/}}
{{- define "gait.probeAction" -}}
{{- $root := index . 0 -}}
{{- if $root.Values.tls.enabled -}}
exec:
  command: ["python", "-m", "gait.probe", {{ index . 1 | quote }}, {{ index . 2 | quote }}]
timeoutSeconds: {{ $root.Values.tls.probeTimeoutSeconds }}
{{- else -}}
grpc:
  port: {{ index . 1 }}
{{- end -}}
{{- end -}}
