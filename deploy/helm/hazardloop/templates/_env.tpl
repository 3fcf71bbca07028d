{{/*
Each service's own settings, beside the ConfigMap, its NATS user and its database: one
definition per service, named "hazardloop.env.<service>".
*/}}
{{- define "hazardloop.env.intake" -}}
# The https address phones use: QR links, sign-in redirects, Secure cookies. The
# provider must list <this URL>/f/signin/callback as a redirect URI of the form's client.
- name: HAZARDLOOP_INTAKE_PUBLIC_URL
  value: https://{{ include "hazardloop.host" (dict "field" "intake.host" "value" .Values.intake.host) }}
# Phones come through the report Ingress: count wrong receipt codes per phone's
# address (X-Forwarded-For from the ingress), not per ingress pod.
- name: FORWARDED_ALLOW_IPS
  value: "*"
- name: HAZARDLOOP_INTAKE_OIDC_CLIENT_ID # the issuer and claims: the ConfigMap
  value: {{ required "intake.oidcClientId is required" .Values.intake.oidcClientId | quote }}
- name: HAZARDLOOP_INTAKE_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef: { name: {{ .Values.secrets.app }}, key: intake-oidc-client-secret }
{{- end }}

{{- define "hazardloop.env.verification" }}{{ end }}
{{- define "hazardloop.env.rewards" }}{{ end }}
{{- define "hazardloop.env.notifications" }}{{ end }}

{{- define "hazardloop.env.console" -}}
# The https address browsers use (the Ingress host): sign-in redirects, Secure cookies.
# The provider must list <this URL>/signin/callback as a redirect URI of the client.
- name: HAZARDLOOP_CONSOLE_PUBLIC_URL
  value: https://{{ include "hazardloop.host" (dict "field" "console.host" "value" .Values.console.host) }}
{{- $services := include "hazardloop.services" . | fromYaml }}
{{- range $name := list "intake" "verification" "rewards" "notifications" }}
- name: HAZARDLOOP_{{ upper $name }}_URL
  value: http://{{ $name }}:{{ (get $services $name).port }}
{{- end }}
- name: HAZARDLOOP_OIDC_CLIENT_ID # the issuer and claims: the ConfigMap
  value: {{ required "console.oidcClientId is required" .Values.console.oidcClientId | quote }}
- name: HAZARDLOOP_OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef: { name: {{ .Values.secrets.app }}, key: oidc-client-secret }
- name: HAZARDLOOP_OIDC_SCOPES
  value: {{ .Values.console.oidcScopes | quote }}
- name: HAZARDLOOP_SESSION_IDLE_MINUTES
  value: {{ .Values.console.sessionIdleMinutes | quote }}
{{- end }}
