{{/* Names, labels and the few values derived from config. */}}

{{- define "skillgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "skillgate.fullname" -}}
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

{{- define "skillgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "skillgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "skillgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "skillgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "skillgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "skillgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "skillgate.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* listen.port of the config (the schema's default is 8080). */}}
{{- define "skillgate.port" -}}
{{- dig "listen" "port" 8080 .Values.config | int -}}
{{- end -}}

{{/* storage.url of the config (the schema's default is the embedded SQLite file). */}}
{{- define "skillgate.storageUrl" -}}
{{- dig "storage" "url" "sqlite:./data/skillgate.db" .Values.config -}}
{{- end -}}

{{- define "skillgate.usesPostgres" -}}
{{- $url := include "skillgate.storageUrl" . -}}
{{- if or (hasPrefix "postgres://" $url) (hasPrefix "postgresql://" $url) -}}true{{- end -}}
{{- end -}}

{{/* listen.drainTimeout in whole seconds, rounded up; same units as the gateway's durations. */}}
{{- define "skillgate.drainSeconds" -}}
{{- $d := toString (dig "listen" "drainTimeout" "30s" .Values.config) -}}
{{- if regexMatch "^[0-9]+ms$" $d -}}
{{- add1 (div (trimSuffix "ms" $d | atoi) 1000) -}}
{{- else if regexMatch "^[0-9]+s$" $d -}}
{{- trimSuffix "s" $d | atoi -}}
{{- else if regexMatch "^[0-9]+m$" $d -}}
{{- mul (trimSuffix "m" $d | atoi) 60 -}}
{{- else if regexMatch "^[0-9]+h$" $d -}}
{{- mul (trimSuffix "h" $d | atoi) 3600 -}}
{{- else -}}
{{- fail (printf "config.listen.drainTimeout %q: expected a duration such as 30s or 2m" $d) -}}
{{- end -}}
{{- end -}}

{{/* The pod's grace period: explicit, or preStop sleep + drain + 10 s; must exceed the first two. */}}
{{- define "skillgate.graceSeconds" -}}
{{- $minimum := add (int .Values.preStopSleepSeconds) (include "skillgate.drainSeconds" . | atoi) -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if le $grace $minimum -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.listen.drainTimeout (%d s)" $grace $minimum) -}}
{{- end -}}
{{- $grace -}}
{{- else -}}
{{- add $minimum 10 -}}
{{- end -}}
{{- end -}}

{{/* Refuses configurations that cannot work in a pod, at render time rather than at run time. */}}
{{- define "skillgate.validate" -}}
{{- $host := toString (dig "listen" "host" "127.0.0.1" .Values.config) -}}
{{- if or (hasPrefix "127." $host) (eq $host "localhost") (eq $host "::1") -}}
{{- fail (printf "config.listen.host is %q: a pod must listen on 0.0.0.0 (or ::) to be reachable" $host) -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "skillgate.usesPostgres" .)) -}}
{{- fail "replicaCount > 1 needs a PostgreSQL store: SQLite (config.storage.url) is single-node" -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the key-encryption key: the operator's, or the one the chart generates once. */}}
{{- define "skillgate.keyEncryptionSecret" -}}
{{- default (printf "%s-key-encryption" (include "skillgate.fullname" .)) .Values.keyEncryption.existingSecret -}}
{{- end -}}
