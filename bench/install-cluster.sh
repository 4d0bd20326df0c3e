#!/usr/bin/env bash
# Benchmark (not a test): install and upgrade of a 50-image platform on the local Kubernetes control plane
# (../shared/k8s binaries, Debian's etcd, the stand-in kubelet), with the time of each plan step, so we see where the
# seconds go. The platform is one chart with a Deployment per image; v2 changes one image's layer.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
images=${IMAGES:-50}
src=$(start_registry source)
target=$(start_registry target)
make_keys
./mvnw -q -B dependency:build-classpath -pl test-support -Dmdep.outputFile="$work/tscp" >/dev/null
echo "== starting the local control plane"
java -cp "$(cat "$work/tscp"):test-support/target/classes" dev.airlock.testing.kube.LocalControlPlane \
  "$work/kubeconfig" > "$work/control-plane.log" 2>&1 &
echo $! >> "$work/pids"
echo "== seeding $images images, then a changed layer for app0"
java -cp "$bench_cp" bench/SeedImages.java "$src" bench "$images" 8 1 20 9 1.0 2>/dev/null
java -cp "$bench_cp" bench/SeedImages.java "$src" bench 1 8 1 20 9 1.1 500000 2>/dev/null
mkdir -p "$work/chart/templates"
printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$work/chart/Chart.yaml"
cat > "$work/chart/templates/apps.yaml" <<'YAML'
{{- range $i, $image := .Values.images }}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app{{ $i }}}
spec:
  replicas: 1
  selector: {matchLabels: {app: app{{ $i }}}}
  template:
    metadata: {labels: {app: app{{ $i }}}}
    spec:
      containers: [{name: app, image: {{ $image | quote }}, resources: {requests: {cpu: 10m, memory: 16Mi}}}]
{{- end }}
YAML
spec() { # version tag-of-app0
  printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: %s\n' "$1"
  printf 'components:\n  - name: bench\n    chart: {path: chart}\n    values: [values-%s.yaml]\n' "$1"
  { printf 'images:\n  - %s/bench/app0:%s\n' "$src" "$2"
    for i in $(seq 1 $((images - 1))); do printf '  - %s/bench/app%s:1.0\n' "$src" "$i"; done; } \
    > "$work/values-$1.yaml"
}
spec 1.0.0 1.0 > "$work/v1.yaml"
spec 1.1.0 1.1 > "$work/v2.yaml"
build() { ./airlock bundle build -f "$work/$1.yaml" -o "$work/$2" --key "$work/keys/signing.key" \
  --cert "$work/keys/signing.cert" --insecure-registry "$src" >/dev/null 2>&1; }
build v1 v1.airlock
build v2 v2.airlock
until=$(date -d '+1 year' +%F)
./airlock license issue --customer Bench --product bench --expires "$until" --updates-until "$until" --seats 10 \
  --key "$work/keys/signing.key" --cert "$work/keys/signing.cert" -o "$work/bench.license" >/dev/null
for _ in $(seq 1 600); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
[ -f "$work/kubeconfig" ] || { cat "$work/control-plane.log" >&2; exit 1; }
steps() { # print each step of the last operation: name, seconds, detail
  ./airlock plan show --kubeconfig "$work/kubeconfig" -n bench --output json | python3 -c '
import json, sys
from datetime import datetime
op = json.loads(sys.stdin.read().splitlines()[-1])
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
total = 0
for p in op["phases"]:
    if p.get("started") and p.get("finished"):
        d = (t(p["finished"]) - t(p["started"])).total_seconds(); total += d
        print("    %-16s %6.2f s  %s" % (p["name"], d, p.get("detail", "")[:70]))
print("    %-16s %6.2f s" % ("(steps)", total))'
}
timed() { local t0 t1; t0=$(date +%s.%N); "$@" > "$work/last.log" 2>&1 || { cat "$work/last.log" >&2; exit 1; }
  t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
echo "== install of $images images (wall time includes JVM start, verification, render, preflight)"
s=$(timed ./airlock install --bundle "$work/v1.airlock" --license "$work/bench.license" \
  --trust-root "$work/keys/root.pub" --registry "$target/bench" --insecure-registry "$target" \
  --kubeconfig "$work/kubeconfig" -n bench --yes --timeout 600)
printf '  install: %.2f s wall\n' "$s"; steps
echo "== upgrade: one image's layer changed (no registry flags: what the install recorded)"
s=$(timed ./airlock upgrade --bundle "$work/v2.airlock" --trust-root "$work/keys/root.pub" \
  --kubeconfig "$work/kubeconfig" -n bench --yes --timeout 600)
printf '  upgrade: %.2f s wall\n' "$s"; steps
