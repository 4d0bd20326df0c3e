{{/* Image reference honouring global.imageRegistry, image.registry and image.digest. */}}
{{- define "platform.image" -}}
{{- $registry := .image.registry -}}
{{- if .global.imageRegistry }}{{- $registry = .global.imageRegistry -}}{{- end -}}
{{- $ref := printf "%s/%s" $registry .image.repository -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref .image.tag -}}
{{- end -}}
{{- end -}}
