{{/*
What each service needs from the platform: facts of the code, not choices, so they live here
and not in the values. Ports are the services' defaults; keys are the key-ring files a service
reads (deploy/README.md, "Keys"): a pod mounts these and no others.
*/}}
{{- define "hazardloop.services" -}}
intake:
  port: 8101
  nats: service
  keys: [HAZARDLOOP_JWT_SECRET, HAZARDLOOP_PSEUDONYM_KEY, HAZARDLOOP_RECEIPT_KEY, HAZARDLOOP_FORM_KEY, HAZARDLOOP_MASTER_KEYS]
verification:
  port: 8102
  nats: service
  keys: [HAZARDLOOP_JWT_SECRET, HAZARDLOOP_PSEUDONYM_KEY, HAZARDLOOP_MASTER_KEYS]
rewards:
  port: 8103
  nats: service
  keys: [HAZARDLOOP_JWT_SECRET, HAZARDLOOP_PSEUDONYM_KEY, HAZARDLOOP_MASTER_KEYS]
notifications:
  port: 8104
  nats: service
  keys: [HAZARDLOOP_JWT_SECRET, HAZARDLOOP_PSEUDONYM_KEY, HAZARDLOOP_WEBHOOK_KEY, HAZARDLOOP_MASTER_KEYS]
console:
  port: 8100
  nats: console
  keys: [HAZARDLOOP_JWT_SECRET, HAZARDLOOP_PSEUDONYM_KEY, HAZARDLOOP_MASTER_KEYS]
{{- end }}

{{/* The services this release runs, in start order: intake creates the stream. */}}
{{- define "hazardloop.deployed" -}}
{{- $names := list "intake" "verification" "rewards" "notifications" -}}
{{- if .Values.console.enabled }}{{ $names = append $names "console" }}{{ end -}}
{{- toJson $names -}}
{{- end }}

{{/* The image by digest: a tag can be moved, a digest names one build. */}}
{{- define "hazardloop.image" -}}
{{- $digest := required "image.digest is required: the sha256 digest of the pushed hazardloop image (deploy/README.md, Images)" .Values.image.digest -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $digest) -}}
{{- fail (printf "image.digest must be sha256:<64 hex digits>, not %q" $digest) -}}
{{- end -}}
{{- printf "%s@%s" .Values.image.repository $digest -}}
{{- end }}

{{- define "hazardloop.labels" -}}
app.kubernetes.io/part-of: hazardloop
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* A host of the values, checked: the public URLs are built from it as https://<host>. */}}
{{- define "hazardloop.host" -}}
{{- if or (not .value) (contains "/" .value) (contains ":" .value) -}}
{{- fail (printf "%s must be a bare DNS name (no scheme, port or path), not %q" .field (toString .value)) -}}
{{- end -}}
{{- .value -}}
{{- end }}
