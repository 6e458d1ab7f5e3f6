{{/* Name of the chart, overridable. */}}
{{- define "agentspec.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every resource name: the release name unless overridden. */}}
{{- define "agentspec.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "agentspec.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "agentspec.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agentspec
{{- end -}}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "operator"). */}}
{{- define "agentspec.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentspec.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* image reference of a component: include with (dict "ctx" $ "image" .Values.operator.image). */}}
{{- define "agentspec.image" -}}
{{- printf "%s/%s:%s" .ctx.Values.image.registry .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* The Secret with apiKey and jwtSecret. */}}
{{- define "agentspec.secretName" -}}
{{- default "agentspec-control-plane" .Values.controlPlane.existingSecret -}}
{{- end -}}

{{- /*
A Secret named agentspec-control-plane that someone created by hand before installing (seed 000: kubectl create
secret generic agentspec-control-plane --from-literal=apiKey=...): "true" when it exists and Helm does not manage it.
The chart then uses it and renders none of that name. Empty under helm template (no cluster to look at).
*/}}
{{- define "agentspec.handMadeSecret" -}}
{{- if not .Values.controlPlane.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agentspec-control-plane" }}
{{- if $existing }}
{{- $labels := default (dict) $existing.metadata.labels }}
{{- if ne (index $labels "app.kubernetes.io/managed-by" | default "") "Helm" }}true{{ end }}
{{- end }}
{{- end }}
{{- end -}}

{{- /* The Secret and key the control plane reads JWT_SECRET from. */}}
{{- define "agentspec.jwtSecretName" -}}
{{- if .Values.controlPlane.existingSecret }}{{ .Values.controlPlane.existingSecret }}
{{- else if include "agentspec.handMadeSecret" . }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace "agentspec-control-plane" }}
{{- if (default (dict) $existing.data).jwtSecret }}agentspec-control-plane{{ else }}agentspec-control-plane-jwt{{ end }}
{{- else }}agentspec-control-plane{{ end }}
{{- end -}}

{{- define "agentspec.controlPlaneUrl" -}}
{{- printf "http://%s-control-plane.%s.svc:%d" (include "agentspec.fullname" .) .Release.Namespace (int .Values.controlPlane.service.port) -}}
{{- end -}}

{{- define "agentspec.webhookName" -}}
{{- printf "%s-webhook" (include "agentspec.fullname" .) -}}
{{- end -}}

{{/* Restricted pod security (Pod Security Standards "restricted"). */}}
{{- define "agentspec.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "agentspec.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "agentspec.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- /*
Replicas of one component on different nodes when the scheduler can (preferred, so a one-node cluster still runs
them): unless the component's own affinity is set. Takes dict "values" (the component's values) "sel" (its
selector labels dict for agentspec.selectorLabels).
*/}}
{{- define "agentspec.spread" -}}
{{- if and (gt (int .values.replicas) 1) (not .values.affinity) }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "agentspec.selectorLabels" .sel | nindent 14 }}
{{- end }}
{{- end -}}
