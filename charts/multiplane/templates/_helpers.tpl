{{/* Names, labels and the URLs the components give each other. */}}

{{- define "multiplane.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "multiplane.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; call with (dict "ctx" $ "component" "router"). */}}
{{- define "multiplane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{ include "multiplane.selectorLabels" . }}
{{- end -}}

{{- define "multiplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "multiplane.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "multiplane.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "multiplane.routerService" -}}
{{- printf "%s-router" (include "multiplane.fullname" .) -}}
{{- end -}}

{{/* The shards' headless Service: the StatefulSet's serviceName, each shard's DNS name. */}}
{{- define "multiplane.shardService" -}}
{{- printf "%s-shard" (include "multiplane.fullname" .) -}}
{{- end -}}

{{- define "multiplane.etcdService" -}}
{{- printf "%s-etcd" (include "multiplane.fullname" .) -}}
{{- end -}}

{{/* What clients reach the router at. */}}
{{- define "multiplane.externalURL" -}}
{{- if .Values.externalURL -}}
{{- .Values.externalURL | trimSuffix "/" -}}
{{- else if eq (int .Values.router.service.port) 443 -}}
{{- printf "https://%s.%s.svc" (include "multiplane.routerService" .) .Release.Namespace -}}
{{- else -}}
{{- printf "https://%s.%s.svc:%d" (include "multiplane.routerService" .) .Release.Namespace (int .Values.router.service.port) -}}
{{- end -}}
{{- end -}}

{{/* The router inside the cluster (the operator's way to the root control plane). */}}
{{- define "multiplane.routerInternalURL" -}}
{{- printf "https://%s.%s.svc:%d" (include "multiplane.routerService" .) .Release.Namespace (int .Values.router.service.port) -}}
{{- end -}}

{{/* Any shard: the headless Service's name resolves to every ready shard. */}}
{{- define "multiplane.rootURL" -}}
{{- printf "https://%s.%s.svc:%d" (include "multiplane.shardService" .) .Release.Namespace (int .Values.shards.port) -}}
{{- end -}}

{{/* The etcd client URLs, comma separated. */}}
{{- define "multiplane.etcdEndpoints" -}}
{{- if eq .Values.etcd.mode "external" -}}
{{- join "," .Values.etcd.external.endpoints -}}
{{- else -}}
{{- $svc := include "multiplane.etcdService" . -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.etcd.bundled.replicas) -}}
{{- $urls = append $urls (printf "https://%s-%d.%s.%s.svc:2379" $svc $i $svc $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the shards' etcd client certificate (ca.crt, tls.crt, tls.key). */}}
{{- define "multiplane.etcdClientSecret" -}}
{{- if eq .Values.etcd.mode "external" -}}
{{- required "etcd.external.tlsSecret is required with etcd.mode=external" .Values.etcd.external.tlsSecret -}}
{{- else -}}
{{- printf "%s-etcd-client" (include "multiplane.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* DNS names of the serving certificate shared by the router and the shards, as a JSON list. */}}
{{- define "multiplane.servingDNSNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $router := include "multiplane.routerService" . -}}
{{- $shard := include "multiplane.shardService" . -}}
{{- $names := list "localhost" $router (printf "%s.%s" $router $ns) (printf "%s.%s.svc" $router $ns) (printf "%s.%s.svc.%s" $router $ns .Values.clusterDomain) (printf "%s.%s.svc" $shard $ns) (printf "*.%s.%s.svc" $shard $ns) (printf "*.%s.%s.svc.%s" $shard $ns .Values.clusterDomain) -}}
{{- with .Values.externalURL -}}
{{- $host := (urlParse .).hostname -}}
{{- if not (regexMatch "^[0-9.]+$|:" $host) -}}
{{- $names = append $names $host -}}
{{- end -}}
{{- end -}}
{{- with .Values.baseDomain -}}
{{- $names = concat $names (list . (printf "*.%s" .)) -}}
{{- end -}}
{{- range .Values.extraSANs -}}
{{- if not (regexMatch "^[0-9.]+$|:" .) -}}
{{- $names = append $names . -}}
{{- end -}}
{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{/* IP addresses of the serving certificate, as a JSON list. */}}
{{- define "multiplane.servingIPs" -}}
{{- $ips := list "127.0.0.1" "::1" -}}
{{- with .Values.externalURL -}}
{{- $host := (urlParse .).hostname -}}
{{- if regexMatch "^[0-9.]+$|:" $host -}}
{{- $ips = append $ips $host -}}
{{- end -}}
{{- end -}}
{{- range .Values.extraSANs -}}
{{- if regexMatch "^[0-9.]+$|:" . -}}
{{- $ips = append $ips . -}}
{{- end -}}
{{- end -}}
{{- $ips | uniq | toJson -}}
{{- end -}}

{{/* DNS names of the bundled etcd's certificate (server and peer), as a JSON list. */}}
{{- define "multiplane.etcdDNSNames" -}}
{{- $ns := .Release.Namespace -}}
{{- $svc := include "multiplane.etcdService" . -}}
{{- $names := list "localhost" (printf "%s.%s.svc" $svc $ns) (printf "*.%s.%s.svc" $svc $ns) (printf "*.%s.%s.svc.%s" $svc $ns .Values.clusterDomain) -}}
{{- /* Each member by name too: etcd checks a peer's certificate names against its address. */ -}}
{{- range $i := until (int .Values.etcd.bundled.replicas) -}}
{{- $names = append $names (printf "%s-%d.%s.%s.svc" $svc $i $svc $ns) -}}
{{- end -}}
{{- $names | toJson -}}
{{- end -}}

{{/*
Pod-level scheduling and security, shared by every workload; call with (dict "ctx" $ "component" C).
Replicas of a component spread over nodes and zones where the cluster allows it.
*/}}
{{- define "multiplane.podCommon" -}}
{{- $root := .ctx -}}
{{- $component := .component -}}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
topologySpreadConstraints:
  {{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "multiplane.selectorLabels" (dict "ctx" $root "component" $component) | nindent 8 }}
  {{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The data directory's volumes: writable scratch, pki/ and jwt/ from Secrets, tokens.csv. */}}
{{- define "multiplane.dataVolumes" -}}
{{- $fullname := include "multiplane.fullname" .ctx -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: pki
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ $fullname }}-ca
          items:
            - { key: tls.crt, path: ca.crt }
            - { key: tls.key, path: ca.key }
      - secret:
          name: {{ $fullname }}-serving
          items:
            - { key: tls.crt, path: serving.crt }
            - { key: tls.key, path: serving.key }
      - secret:
          name: {{ $fullname }}-requestheader-ca
          items:
            - { key: tls.crt, path: requestheader-ca.crt }
            - { key: tls.key, path: requestheader-ca.key }
      {{- if .routerClient }}
      - secret:
          name: {{ $fullname }}-router-client
          items:
            - { key: tls.crt, path: router-client.crt }
            - { key: tls.key, path: router-client.key }
      {{- end }}
- name: jwt
  secret:
    secretName: {{ $fullname }}-jwt
    defaultMode: 0440
- name: tokens
  secret:
    secretName: {{ $fullname }}-tokens
    defaultMode: 0440
{{- end -}}

{{- define "multiplane.dataVolumeMounts" -}}
- { name: data, mountPath: /var/lib/multiplane }
- { name: tmp, mountPath: /tmp }
- { name: pki, mountPath: /var/lib/multiplane/pki, readOnly: true }
- { name: jwt, mountPath: /var/lib/multiplane/jwt, readOnly: true }
- { name: tokens, mountPath: /var/lib/multiplane/tokens.csv, subPath: tokens.csv, readOnly: true }
{{- end -}}

{{/* HTTPS probes on /livez and /readyz (anonymous on every Multiplane server). */}}
{{- define "multiplane.probes" -}}
startupProbe:
  httpGet: { path: /livez, port: {{ .port }}, scheme: {{ .scheme }} }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /livez, port: {{ .port }}, scheme: {{ .scheme }} }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: {{ .port }}, scheme: {{ .scheme }} }
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}
