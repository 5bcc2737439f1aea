{{/* The chart's name, or nameOverride. */}}
{{- define "elbgateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name, used to name the chart's objects. */}}
{{- define "elbgateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "elbgateway.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "elbgateway.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "elbgateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "elbgateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "elbgateway.labels" -}}
{{ include "elbgateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The ServiceAccount the controller runs as. */}}
{{- define "elbgateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "elbgateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* --feature-gates: the gates the controller knows, in name order. */}}
{{- define "elbgateway.featureGates" -}}
{{- $gates := list -}}
{{- range $name, $on := .Values.controllerConfig.featureGates -}}
{{- if has $name (list "ALBGatewayAPI" "NLBGatewayAPI") -}}
{{- $gates = append $gates (printf "%s=%t" $name (eq (toString $on) "true")) -}}
{{- end -}}
{{- end -}}
{{- join "," $gates -}}
{{- end -}}

{{/* --default-tags: key=value pairs in key order. */}}
{{- define "elbgateway.defaultTags" -}}
{{- $tags := list -}}
{{- range $k, $v := .Values.defaultTags -}}
{{- $tags = append $tags (printf "%s=%s" $k (toString $v)) -}}
{{- end -}}
{{- join "," $tags -}}
{{- end -}}


{{/* --service-target-eni-security-group-tags: serviceTargetENISGTags as "k=v,..." or as a map. */}}
{{- define "elbgateway.serviceTargetENISGTags" -}}
{{- $v := .Values.serviceTargetENISGTags -}}
{{- if kindIs "map" $v -}}
{{- $tags := list -}}
{{- range $k, $x := $v -}}
{{- $tags = append $tags (printf "%s=%s" $k (toString $x)) -}}
{{- end -}}
{{- join "," $tags -}}
{{- else if $v -}}
{{- $v -}}
{{- end -}}
{{- end -}}

{{/* The AWS Load Balancer Controller chart's keys this chart accepts but does not act on. */}}
{{- define "elbgateway.ignoredLBCKeys" -}}
{{- $ignored := list -}}
{{- range $k := list "awsApiEndpoints" "awsApiThrottle" "awsMaxRetries" "vpcTags" "defaultSSLPolicy" "externalManagedTags" "watchNamespace" "clusterSecretsPermissions" "ingressClass" "createIngressClassResource" "enableServiceMutatorWebhook" "webhookTLS" "keepTLSSecret" "enableCertManager" "targetgroupbindingMaxConcurrentReconciles" "serviceMaxConcurrentReconciles" "ingressMaxConcurrentReconciles" "syncPeriod" -}}
{{- if and (hasKey $.Values $k) (index $.Values $k) -}}
{{- $ignored = append $ignored $k -}}
{{- end -}}
{{- end -}}
{{- join "," $ignored -}}
{{- end -}}
