{{/* vim: set filetype=mustache: */}}
{{/*
Expand the name of the chart.
*/}}
{{- define "reseller-auth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Create a default fully qualified app name.
We truncate at 53 chars (not 63) so that the longest suffix the chart appends ("-migration",
"-internal") still fits the 63-character DNS label limit.
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "reseller-auth.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 53 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Name of the internal (admin) Service.
*/}}
{{- define "reseller-auth.internalServiceName" -}}
{{- printf "%s-internal" (include "reseller-auth.fullname" .) -}}
{{- end -}}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "reseller-auth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Common labels.
*/}}
{{- define "reseller-auth.labels" -}}
helm.sh/chart: {{ include "reseller-auth.chart" . }}
{{ include "reseller-auth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dbs
{{- end -}}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "reseller-auth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reseller-auth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
The image reference: a digest pins it and wins over the tag.
*/}}
{{- define "reseller-auth.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
ServiceAccount of the Deployment (and the test pod).
*/}}
{{- define "reseller-auth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reseller-auth.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
ServiceAccount of the migration Job. A pre-install hook runs before the release's ordinary
resources exist, so the Job cannot use the Deployment's ServiceAccount; like Hydra's chart, the
Job gets its own ServiceAccount, itself a hook created just before the Job.
*/}}
{{- define "reseller-auth.migration.serviceAccountName" -}}
{{- if .Values.migration.serviceAccount.create -}}
{{- default (printf "%s-migration" (include "reseller-auth.fullname" .)) .Values.migration.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.migration.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Name of the Secret every pod reads DATABASE_URL, REDIS_URL, ADMIN_TOKENS and SECRET_KEY from:
`secret.existingSecret` when set, else the one this chart renders.
*/}}
{{- define "reseller-auth.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else -}}
{{- include "reseller-auth.fullname" . -}}
{{- end -}}
{{- end -}}

{{/*
The issuer: `config.issuer`, else derived from the first Ingress host, else the public Service's
in-cluster URL.
*/}}
{{- define "reseller-auth.issuer" -}}
{{- if .Values.config.issuer -}}
{{- .Values.config.issuer -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts (index .Values.ingress.hosts 0).host -}}
{{- $host := (index .Values.ingress.hosts 0).host -}}
{{- $tls := false -}}
{{- range .Values.ingress.tls -}}{{- if has $host .hosts -}}{{- $tls = true -}}{{- end -}}{{- end -}}
{{- printf "%s://%s" (ternary "https" "http" $tls) $host -}}
{{- else -}}
{{- printf "http://%s.%s.svc:%v" (include "reseller-auth.fullname" .) .Release.Namespace .Values.service.public.port -}}
{{- end -}}
{{- end -}}

{{/*
Whether a PodDisruptionBudget is rendered: asked for, and more than one pod can run.
*/}}
{{- define "reseller-auth.pdbEnabled" -}}
{{- if and .Values.podDisruptionBudget.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) -}}
true
{{- end -}}
{{- end -}}

{{/*
Environment variables read from the Secret, one secretKeyRef each. The Deployment and the
migration Job both use these, so that they always read the same Secret.
*/}}
{{- define "reseller-auth.env.databaseUrl" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "reseller-auth.secretName" . }}
      key: {{ .Values.secret.keys.databaseUrl }}
{{- end -}}

{{- define "reseller-auth.env.secrets" -}}
{{ include "reseller-auth.env.databaseUrl" . }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "reseller-auth.secretName" . }}
      key: {{ .Values.secret.keys.redisUrl }}
- name: ADMIN_TOKENS
  valueFrom:
    secretKeyRef:
      name: {{ include "reseller-auth.secretName" . }}
      key: {{ .Values.secret.keys.adminTokens }}
- name: SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "reseller-auth.secretName" . }}
      key: {{ .Values.secret.keys.secretKey }}
{{- end -}}

{{/*
Volumes for the read-only root filesystem: /tmp and DATA_DIR are emptyDirs.
*/}}
{{- define "reseller-auth.scratchVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.emptyDirSizeLimit }}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.emptyDirSizeLimit }}
{{- end -}}

{{- define "reseller-auth.scratchVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.config.dataDir }}
{{- end -}}

{{/*
Checksums that roll the pods when their configuration changes. For an existing Secret the chart
cannot see the contents at template time except through `lookup`, which answers during a real
install or upgrade (and is empty under `helm template`): pods then also roll on `helm upgrade`
after the existing Secret's contents changed.
*/}}
{{- define "reseller-auth.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secret.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace .Values.secret.existingSecret | default dict }}
checksum/secret: {{ get $existing "data" | default dict | toJson | sha256sum }}
{{- else }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}
