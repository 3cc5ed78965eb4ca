{{/* Labels every object carries; a workload's add its component. */}}
{{- define "conveyor.labels" -}}
app.kubernetes.io/name: conveyor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The port each service listens on (shared/config.py DEFAULT_PORTS). */}}
{{- define "conveyor.ports" -}}
{{- toJson (dict "ingest" 8101 "scheduler" 8102 "worker" 8103 "export" 8104 "notifier" 8105 "gateway" 8000) -}}
{{- end }}

{{/* An image of deploy/docker/: <registry>/<repository>/<name>:<tag>. Arguments: root, name. */}}
{{- define "conveyor.image" -}}
{{- $image := .root.Values.image -}}
{{- $prefix := ternary (printf "%s/" $image.registry) "" (ne $image.registry "") -}}
{{- printf "%s%s/%s:%s" $prefix $image.repository .name (default .root.Chart.AppVersion $image.tag) -}}
{{- end }}

{{/* The settings kept in Secrets, each read from the Secret the values name. */}}
{{- define "conveyor.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "postgresql.existingSecret: name the Secret that holds the database URL" .Values.postgresql.existingSecret }}
      key: {{ .Values.postgresql.urlKey }}
- name: CONVEYOR_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "signingSecret.existingSecret: name the Secret that holds the link-signing secret" .Values.signingSecret.existingSecret }}
      key: {{ .Values.signingSecret.key }}
{{- if .Values.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.accessKeyIdKey }}}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.secretAccessKeyKey }}}
{{- end }}
{{- if .Values.metricsToken.existingSecret }}
- name: CONVEYOR_METRICS_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ .Values.metricsToken.existingSecret }}, key: {{ .Values.metricsToken.key }}}
{{- end }}
{{- end }}

{{/*
A Deployment and its Service. Arguments: root, component (the objects' name suffix and label), image, port,
values (replicas, resources; workers: nodeSelector, tolerations, autoscaling), env (extra variables, a map),
worker (true for a worker: grace to finish a task, a model cache).
*/}}
{{- define "conveyor.workload" -}}
{{- $root := .root -}}
{{- $name := printf "%s-%s" $root.Release.Name .component -}}
{{- $selector := dict "app.kubernetes.io/instance" $root.Release.Name "app.kubernetes.io/component" .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "conveyor.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  {{- if not (and .worker .values.autoscaling.enabled) }}
  replicas: {{ .values.replicas }}
  {{- end }}
  selector:
    matchLabels:
      {{- toYaml $selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "conveyor.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .port | quote }}
        prometheus.io/path: /metrics
        checksum/config: {{ include (print $root.Template.BasePath "/config.yaml") $root | sha256sum }}
    spec:
      {{- if .worker }}
      # a worker finishing a task commits its results before its offset: give it time on scale-in
      terminationGracePeriodSeconds: 300
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .worker }}
      {{- with .values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- end }}
      containers:
        - name: {{ .image }}
          image: {{ include "conveyor.image" (dict "root" $root "name" .image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - {name: http, containerPort: {{ .port }}}
          envFrom:
            - configMapRef: {name: {{ $root.Release.Name }}-config}
          env:
            {{- include "conveyor.secretEnv" $root | nindent 12 }}
            {{- range $key, $value := .env }}
            - {name: {{ $key }}, value: {{ $value | quote }}}
            {{- end }}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 20
            failureThreshold: 6
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          {{- if .worker }}
          volumeMounts:
            - {name: model-cache, mountPath: /var/cache/conveyor/registry}
          {{- end }}
      {{- if .worker }}
      volumes:
        - name: model-cache
          emptyDir: {sizeLimit: 10Gi}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "conveyor.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  selector:
    {{- toYaml $selector | nindent 4 }}
  ports:
    - {name: http, port: {{ .port }}, targetPort: http}
{{- end }}
