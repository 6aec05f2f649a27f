{{/*
The chart's name, and the release's full name: both are cut to 63
characters, the longest name a Kubernetes label or DNS name may have.
*/}}
{{- define "sitrep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sitrep.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sitrep.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sitrep.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The labels that pick the Deployment's pods: the Services and the
PodDisruptionBudget select by these, so they never change between releases.
*/}}
{{- define "sitrep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sitrep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sitrep.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* The Secret the settings come from: the user's own, or the chart's. */}}
{{- define "sitrep.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "sitrep.fullname" .) }}
{{- end }}

{{/*
Sitrep's secret settings (README.md, "Settings"): the keys the chart's
Secret may have. deploy/deploy_test.go checks that cmd/sitrep reads each.
*/}}
{{- define "sitrep.secretSettings" -}}
SITREP_DB SLACK_BOT_TOKEN SLACK_SIGNING_SECRET SLACK_APP_TOKEN STATUSPAGE_API_KEY SITREP_HOOK_SECRET_ALERTMANAGER SITREP_HOOK_SECRET_GRAFANA SITREP_HOOK_SECRET_SENTRY SITREP_HOOK_SECRET_DATADOG SITREP_HOOK_SECRET_PINGDOM SITREP_HOOK_SECRET_STATUSCAKE SITREP_HOOK_SECRET_GENERIC SITREP_HOOK_SECRET_ZENDESK SITREP_HOOK_SECRET_GITHUB SITREP_HOOK_SECRET_JIRA SITREP_HOOK_SECRET_ASANA SITREP_HOOK_SECRET_LINEAR SITREP_HOOK_SECRET_PAGERDUTY SITREP_GITHUB_TOKEN SITREP_JIRA_TOKEN SITREP_ASANA_TOKEN SITREP_LINEAR_TOKEN PAGERDUTY_ROUTING_KEY TWILIO_AUTH_TOKEN
{{- end }}

{{/*
Sitrep's settings that are not secret and that env may set. The chart sets
SITREP_ADDR, SITREP_STATUS_ADDR and SITREP_CONFIG itself, and
SITREP_CPUPROFILE would write to the read-only filesystem.
*/}}
{{- define "sitrep.plainSettings" -}}
SITREP_ANNOUNCE_CHANNEL SITREP_LOG_LEVEL SITREP_PUBLIC_URL SITREP_JIRA_EMAIL SLACK_API_URL STATUSPAGE_PAGE_ID STATUSPAGE_API_URL GITHUB_API_URL JIRA_API_URL ASANA_API_URL LINEAR_API_URL PAGERDUTY_EVENTS_URL TWILIO_ACCOUNT_SID TWILIO_FROM TWILIO_API_URL
{{- end }}

{{/*
sitrep.validate refuses values that would make pods that cannot work, each
with what was wrong and what to do. The Deployment includes it, so helm
template, lint, install and upgrade all stop on it.
*/}}
{{- define "sitrep.validate" -}}
{{- $secret := splitList " " (include "sitrep.secretSettings" .) }}
{{- $plain := splitList " " (include "sitrep.plainSettings" .) }}
{{- if not .Values.secrets.existingSecret }}
{{- range $k, $v := .Values.secrets.values }}
{{- if not (has $k $secret) }}
{{- if has $k $plain }}
{{- fail (printf "secrets.values.%s is not secret: set it under env instead" $k) }}
{{- end }}
{{- fail (printf "secrets.values.%s is not one of Sitrep's secret settings (%s); see README.md, \"Settings\"" $k (join ", " $secret)) }}
{{- end }}
{{- end }}
{{- $db := .Values.secrets.values.SITREP_DB | default "" | trim }}
{{- if not $db }}
{{- fail "secrets.values.SITREP_DB is empty: set it to the postgres://user:password@host:5432/database URL of the database the replicas share, or name a Secret of your own in secrets.existingSecret" }}
{{- end }}
{{- if not (or (hasPrefix "postgres://" $db) (hasPrefix "postgresql://" $db)) }}
{{- fail "secrets.values.SITREP_DB is not a postgres:// URL: the chart runs Sitrep on PostgreSQL only. A SQLite file lives in one pod: replicas cannot share it, a rolling update starts the new pod before the old one stops, and the file goes with the pod. Set a postgres://user:password@host:5432/database URL, or run one Sitrep with SQLite from docker-compose.yml" }}
{{- end }}
{{- if not (.Values.secrets.values.SLACK_BOT_TOKEN | default "" | trim) }}
{{- fail "secrets.values.SLACK_BOT_TOKEN is empty: set it to the app's bot token (xoxb-…), or name a Secret of your own in secrets.existingSecret" }}
{{- end }}
{{- if not (or (.Values.secrets.values.SLACK_SIGNING_SECRET | default "" | trim) (.Values.secrets.values.SLACK_APP_TOKEN | default "" | trim)) }}
{{- fail "secrets.values.SLACK_SIGNING_SECRET is empty: set it to the app's signing secret (Slack verifies every request with it), or set SLACK_APP_TOKEN for Socket Mode" }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.env }}
{{- if has $k $secret }}
{{- fail (printf "env.%s is a secret: put it in the Secret (secrets.values.%s, or a key of secrets.existingSecret), not in the Deployment" $k $k) }}
{{- end }}
{{- if has $k (list "SITREP_ADDR" "SITREP_STATUS_ADDR" "SITREP_CONFIG") }}
{{- fail (printf "env.%s is the chart's to set: use containerPort, statusPage.enabled and statusPage.containerPort, or config" $k) }}
{{- end }}
{{- if and (or (hasPrefix "SITREP_" $k) (hasPrefix "SLACK_" $k)) (not (has $k $plain)) }}
{{- fail (printf "env.%s is not a setting Sitrep reads that env may set (%s); see README.md, \"Settings\"" $k (join ", " $plain)) }}
{{- end }}
{{- end }}
{{- if and .Values.statusPage.enabled (eq (int .Values.statusPage.containerPort) (int .Values.containerPort)) }}
{{- fail (printf "statusPage.containerPort is %d, the same as containerPort: the status page needs a port of its own" (int .Values.containerPort)) }}
{{- end }}
{{- if and .Values.podDisruptionBudget.minAvailable (gt (int .Values.replicaCount) 1) (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- fail (printf "podDisruptionBudget.minAvailable is %d with replicaCount %d: no pod could ever be evicted, so nodes could not be drained; keep it below replicaCount" (int .Values.podDisruptionBudget.minAvailable) (int .Values.replicaCount)) }}
{{- end }}
{{- end }}

{{/* The pod's environment, shared by the Deployment and the migration Job. */}}
{{- define "sitrep.envFrom" -}}
- secretRef:
    name: {{ include "sitrep.secretName" . }}
{{- end }}
