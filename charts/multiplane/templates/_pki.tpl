{{/*
The chart's own PKI (when cert-manager is not used). Every certificate and key is generated on
install and kept on upgrades: a Secret that exists already is read back with `lookup` and reused
as long as what it was made from (its recipe: names, addresses, issuing CA) is unchanged. Keys
are ECDSA P-256, as Multiplane makes its own.

multiplane.tlsPair returns JSON {"crt", "key"}; call with
  (dict "ctx" $ "secret" NAME "cn" CN "ca" ISSUER)   ISSUER: {"crt","key"}, or absent for a CA
plus "dns" and "ips" (lists) for a serving certificate.
*/}}
{{- define "multiplane.tlsPair" -}}
{{- $dns := .dns | default list -}}
{{- $ips := .ips | default list -}}
{{- $recipe := printf "%s|%s|%s|%s" .cn (toJson $dns) (toJson $ips) (.ca | default dict | dig "crt" "self" | sha256sum) | sha256sum -}}
{{- $old := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- if and $old (eq (dig "metadata" "annotations" "multiplane.dev/recipe" "" $old) $recipe) -}}
{{- dict "crt" (index $old.data "tls.crt" | b64dec) "key" (index $old.data "tls.key" | b64dec) "recipe" $recipe | toJson -}}
{{- else if .ca -}}
{{- $issuer := buildCustomCert (b64enc .ca.crt) (b64enc .ca.key) -}}
{{- $c := genSignedCertWithKey .cn $ips $dns 3650 $issuer (genPrivateKey "ecdsa") -}}
{{- dict "crt" $c.Cert "key" $c.Key "recipe" $recipe | toJson -}}
{{- else -}}
{{- $c := genCAWithKey .cn 3650 (genPrivateKey "ecdsa") -}}
{{- dict "crt" $c.Cert "key" $c.Key "recipe" $recipe | toJson -}}
{{- end -}}
{{- end -}}

{{/* A kubernetes.io/tls Secret from a pair; (dict "ctx" $ "name" N "pair" P "ca" ISSUER "component" C). */}}
{{- define "multiplane.tlsSecret" -}}
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- include "multiplane.labels" (dict "ctx" .ctx "component" .component) | nindent 4 }}
  annotations:
    multiplane.dev/recipe: {{ .pair.recipe }}
data:
  tls.crt: {{ .pair.crt | b64enc }}
  tls.key: {{ .pair.key | b64enc }}
  ca.crt: {{ (.ca | default .pair).crt | b64enc }}
{{- end -}}
