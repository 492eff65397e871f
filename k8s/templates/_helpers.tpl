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

{{- define "gait.store.accessKeyKey" -}}
{{- if .Values.store.existingSecret -}}{{ .Values.store.accessKeyKey }}{{- else -}}{{ .Values.minio.rootUserKey }}{{- end -}}
{{- end -}}

{{- define "gait.store.secretKeyKey" -}}
{{- if .Values.store.existingSecret -}}{{ .Values.store.secretKeyKey }}{{- else -}}{{ .Values.minio.rootPasswordKey }}{{- end -}}
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

{{/* Environment of every gait container: homes on the writable volumes, no telemetry, the store. */}}
{{- define "gait.env.common" -}}
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
- name: GAIT_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "gait.store.secretName" . }}
      key: {{ include "gait.store.accessKeyKey" . }}
- name: GAIT_S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "gait.store.secretName" . }}
      key: {{ include "gait.store.secretKeyKey" . }}
- name: GAIT_RPC_TIMEOUT_S
  value: {{ .Values.config.rpcTimeoutS | quote }}
- name: GAIT_MAX_WORKERS
  value: {{ .Values.config.maxWorkers | quote }}
- name: GAIT_MAX_CONCURRENT
  value: {{ .Values.config.maxConcurrent | quote }}
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
{{- end -}}

{{/* Environment of the pods that run flows or talk to Prefect: where the services and the API are. */}}
{{- define "gait.env.flows" -}}
{{ include "gait.env.common" . }}
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
