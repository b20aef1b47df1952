{{- define "wisetrader.labels" -}}
app.kubernetes.io/name: wisetrader
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "wisetrader.selector" -}}
app.kubernetes.io/name: wisetrader
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Environment shared by every service: the settings (WISETRADER_*) from the ConfigMap and the DSN secret. */}}
{{- define "wisetrader.env" -}}
envFrom:
  - configMapRef:
      name: {{ .Release.Name }}-wisetrader
env:
  - name: WISETRADER_STORE_DSN
    valueFrom:
      secretKeyRef:
        name: {{ required "store.dsnSecret.name is required" .Values.store.dsnSecret.name }}
        key: {{ .Values.store.dsnSecret.key }}
{{- end }}
