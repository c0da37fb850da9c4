{{/*
Names and labels, as `helm create` lays them out.
*/}}
{{- define "causeway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "causeway.fullname" -}}
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

{{- define "causeway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "causeway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "causeway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "causeway.labels" -}}
helm.sh/chart: {{ include "causeway.chart" . }}
{{ include "causeway.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: causeway
{{- end }}

{{- define "causeway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "causeway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "causeway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
Paths inside the container; the Dockerfile's WORKDIR and CMD use the same ones (test/helm/dockerfile.spec.ts).
*/}}
{{- define "causeway.configDir" -}}/etc/causeway{{- end }}
{{- define "causeway.configPath" -}}/etc/causeway/gateway.yaml{{- end }}
{{- define "causeway.secretsDir" -}}/run/secrets/causeway{{- end }}
{{- define "causeway.dataDir" -}}/app/data{{- end }}

{{/*
The gateway config as the operator wrote it: `config:`, or the trial config when that is empty.
*/}}
{{- define "causeway.userConfig" -}}
{{- if .Values.config }}
{{- toYaml .Values.config }}
{{- else }}
{{- .Files.Get "files/trial-config.yaml" }}
{{- end }}
{{- end }}

{{/*
Which secrets the chart mounts, from where, and which config key points at each file. A secret that
`config:` already gives (as KEY, KEY_file or KEY_env) is left to it; giving it in both places is an error.
Output: YAML `items:` list of {id, path, secretName, secretKey, create, generate, value, section, configKey}.
*/}}
{{- define "causeway.secretPlan" -}}
{{- $cfg := include "causeway.userConfig" . | fromYaml }}
{{- $s := .Values.secrets }}
{{- $own := include "causeway.fullname" . }}
{{- $singles := list
  (dict "id" "encryptionKey" "section" "secrets" "name" "encryption_key" "file" "encryption-key" "generate" "alnum")
  (dict "id" "homeserverSecret" "section" "matrix" "name" "secret" "file" "homeserver-secret" "generate" "alnum")
  (dict "id" "adminToken" "section" "admin" "name" "token" "file" "admin-token" "generate" "")
  (dict "id" "databaseUrl" "section" "database" "name" "url" "file" "database-url" "generate" "" "scheme" "^postgres(ql)?://.+")
  (dict "id" "redisUrl" "section" "redis" "name" "url" "file" "redis-url" "generate" "" "scheme" "^rediss?://.+") }}
items:
{{- range $spec := $singles }}
{{- $v := index $s $spec.id | default dict }}
{{- $sec := get $cfg $spec.section | default dict }}
{{- $inConfig := or (hasKey $sec $spec.name) (hasKey $sec (printf "%s_file" $spec.name)) (hasKey $sec (printf "%s_env" $spec.name)) }}
{{- $explicit := or $v.existingSecret $v.value }}
{{- if and $inConfig $explicit }}
{{- fail (printf "causeway: secrets.%s is set, but config.%s.%s also gives that secret (as %s, %s_file or %s_env); keep one of them" $spec.id $spec.section $spec.name $spec.name $spec.name $spec.name) }}
{{- end }}
{{- if and $v.value $spec.scheme (not (regexMatch $spec.scheme $v.value)) }}
{{- fail (printf "causeway: secrets.%s.value must be a URL matching %s (value not shown)" $spec.id $spec.scheme) }}
{{- end }}
{{- if and (not $inConfig) (or $explicit $spec.generate) }}
  - id: {{ $spec.id }}
    path: {{ $spec.file }}
    secretName: {{ $v.existingSecret | default $own }}
    secretKey: {{ $v.key | default $spec.file }}
    create: {{ not $v.existingSecret }}
    generate: {{ $spec.generate | quote }}
    value: {{ $v.value | default "" | toJson }}
    section: {{ $spec.section }}
    configKey: {{ printf "%s_file" $spec.name }}
{{- end }}
{{- end }}
{{- $cfgKeys := (get $cfg "secrets" | default dict).keys | default list }}
{{- $kids := dict }}
{{- range $i, $k := $s.signingKeys | default list }}
{{- if and $cfgKeys (or $k.existingSecret $k.value) }}
{{- fail (printf "causeway: secrets.signingKeys[%d] is set, but config.secrets.keys also lists signing keys; keep one of them" $i) }}
{{- end }}
{{- if hasKey $kids $k.kid }}
{{- fail (printf "causeway: secrets.signingKeys has kid %q twice" $k.kid) }}
{{- end }}
{{- $_ := set $kids $k.kid true }}
{{- if and $k.value (not (regexMatch "^-----BEGIN [A-Z ]*PRIVATE KEY-----" $k.value)) }}
{{- fail (printf "causeway: secrets.signingKeys[%d].value is not a PEM private key (value not shown)" $i) }}
{{- end }}
{{- if not $cfgKeys }}
  - id: {{ printf "signingKey-%s" $k.kid }}
    kid: {{ $k.kid }}
    path: {{ printf "signing-keys/%s.pem" $k.kid }}
    secretName: {{ $k.existingSecret | default $own }}
    secretKey: {{ $k.key | default (printf "%s.pem" $k.kid) }}
    create: {{ not $k.existingSecret }}
    generate: {{ $k.algorithm | default "rsa" | quote }}
    value: {{ $k.value | default "" | toJson }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Facts the templates share, derived once from values and config.
*/}}
{{- define "causeway.facts" -}}
{{- $cfg := include "causeway.userConfig" . | fromYaml }}
{{- $plan := include "causeway.secretPlan" . | fromYaml }}
{{- $ids := list }}
{{- $created := false }}
{{- range $plan.items }}
{{- $ids = append $ids .id }}
{{- if .create }}{{ $created = true }}{{ end }}
{{- end }}
{{- $db := get $cfg "database" | default dict }}
{{- $dbUrl := get $db "url" | default "" | toString }}
{{- $externalDb := or (has "databaseUrl" $ids) (hasKey $db "url_file") (hasKey $db "url_env") (and $dbUrl (not (hasPrefix "sqlite:" $dbUrl))) }}
{{- $redis := or (has "redisUrl" $ids) (hasKey $cfg "redis") }}
{{- $replicas := int .Values.replicaCount }}
{{- if .Values.autoscaling.enabled }}{{ $replicas = int .Values.autoscaling.maxReplicas }}{{ end }}
replicas: {{ $replicas }}
externalDatabase: {{ $externalDb }}
redis: {{ $redis }}
trial: {{ not .Values.config }}
devMode: {{ get $cfg "dev_mode" | default false }}
migrationJob: {{ and .Values.migration.enabled $externalDb }}
createSecret: {{ $created }}
{{- end }}

{{/*
The gateway.yaml the pods read: the operator's config with what the chart owns set in it.
*/}}
{{- define "causeway.gatewayConfig" -}}
{{- $cfg := include "causeway.userConfig" . | fromYaml }}
{{- $plan := include "causeway.secretPlan" . | fromYaml }}
{{- $facts := include "causeway.facts" . | fromYaml }}
{{- $dir := include "causeway.secretsDir" . }}
{{- $_ := set $cfg "replicas" (int $facts.replicas) }}
{{- $http := get $cfg "http" | default dict }}
{{- $_ := set $http "listen" (printf "0.0.0.0:%d" (int .Values.containerPort)) }}
{{- $_ := set $http "metrics_listen" (printf "0.0.0.0:%d" (int .Values.metrics.port)) }}
{{- $_ := set $cfg "http" $http }}
{{- $keys := list }}
{{- range $plan.items }}
{{- if hasKey . "kid" }}
{{- $keys = append $keys (dict "kid" .kid "key_file" (printf "%s/%s" $dir .path)) }}
{{- else }}
{{- $sec := get $cfg .section | default dict }}
{{- $_ := set $sec .configKey (printf "%s/%s" $dir .path) }}
{{- $_ := set $cfg .section $sec }}
{{- end }}
{{- end }}
{{- if $keys }}
{{- $sec := get $cfg "secrets" | default dict }}
{{- $_ := set $sec "keys" $keys }}
{{- $_ := set $cfg "secrets" $sec }}
{{- end }}
{{- if $facts.migrationJob }}
{{- $db := get $cfg "database" | default dict }}
{{- if not (hasKey $db "migrate_on_start") }}
{{- $_ := set $db "migrate_on_start" false }}
{{- $_ := set $cfg "database" $db }}
{{- end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/*
Rules that span several values; each failure says what to change.
*/}}
{{- define "causeway.validate" -}}
{{- $facts := include "causeway.facts" . | fromYaml }}
{{- $n := int $facts.replicas }}
{{- $what := ternary (printf "autoscaling.maxReplicas is %d" $n) (printf "replicaCount is %d" $n) .Values.autoscaling.enabled }}
{{- if and (gt $n 1) (not $facts.redis) }}
{{- fail (printf "causeway: %s, but more than one replica needs Redis (login state and the event bus are shared through it): set secrets.redisUrl.existingSecret (or secrets.redisUrl.value), or config.redis" $what) }}
{{- end }}
{{- if and (gt $n 1) (not $facts.externalDatabase) }}
{{- fail (printf "causeway: %s, but more than one replica needs PostgreSQL (SQLite is one file in one pod): set secrets.databaseUrl.existingSecret (or secrets.databaseUrl.value)" $what) }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "causeway: autoscaling.minReplicas (%d) is above autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- $budget := add (int .Values.preStopSleepSeconds) 25 }}
{{- if le (int .Values.terminationGracePeriodSeconds) $budget }}
{{- fail (printf "causeway: terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds (%d) + the 25 s Causeway takes to shut down gracefully, i.e. be at least %d" (int .Values.terminationGracePeriodSeconds) (int .Values.preStopSleepSeconds) (add $budget 1)) }}
{{- end }}
{{- if and .Values.persistence.enabled $facts.externalDatabase }}
{{- fail "causeway: persistence.enabled is for the SQLite file; with PostgreSQL (secrets.databaseUrl or config.database.url) leave it off" }}
{{- end }}
{{- end }}

{{/*
Volumes shared by the Deployment and the migration Job. Argument: dict "root" $ "configMap" NAME.
*/}}
{{- define "causeway.volumes" -}}
{{- $ := .root }}
{{- $plan := include "causeway.secretPlan" $ | fromYaml }}
- name: config
  configMap:
    name: {{ .configMap }}
    items:
      - key: gateway.yaml
        path: gateway.yaml
{{- if $plan.items }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
    {{- range $plan.items }}
      - secret:
          name: {{ .secretName }}
          items:
            - key: {{ .secretKey }}
              path: {{ .path }}
    {{- end }}
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $.Values.tmpSizeLimit }}
{{- end }}

{{- define "causeway.volumeMounts" -}}
{{- $plan := include "causeway.secretPlan" . | fromYaml }}
- name: config
  mountPath: {{ include "causeway.configDir" . }}
  readOnly: true
{{- if $plan.items }}
- name: secrets
  mountPath: {{ include "causeway.secretsDir" . }}
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end }}
