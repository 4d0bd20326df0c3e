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
# phases CMD...: runs CMD with --output json and prints each phase (checks and plan steps alike) with the seconds
# between its phase-started and phase-finished events, then the wall time of the whole command.
phases() {
  python3 - "$@" <<'PY'
import json, subprocess, sys, time
t0 = time.monotonic(); started = {}; rows = []
p = subprocess.Popen(sys.argv[1:] + ["--output", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
for line in p.stdout:
    now = time.monotonic()
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == "phase-started":
        started[e["phase"]] = now
    elif e.get("type") == "phase-finished" and e["phase"] in started:
        rows.append((e["phase"], now - started.pop(e["phase"]), e.get("summary", "")))
    elif e.get("type") == "error":
        print(line, file=sys.stderr)
if p.wait() != 0:
    sys.exit("failed: " + p.stderr.read())
wall = time.monotonic() - t0
for name, secs, summary in rows:
    print("    %-16s %6.2f s  %s" % (name, secs, summary[:72]))
print("    %-16s %6.2f s  (JVM start, Helm's native library, reading the bundle's head: the rest)" % ("wall", wall))
PY
}
echo "== install of $images images"
phases ./airlock install --bundle "$work/v1.airlock" --license "$work/bench.license" \
  --trust-root "$work/keys/root.pub" --registry "$target/bench" --insecure-registry "$target" \
  --kubeconfig "$work/kubeconfig" -n bench --yes --timeout 600
echo "== upgrade: one image's layer changed (no registry flags: what the install recorded)"
phases ./airlock upgrade --bundle "$work/v2.airlock" --trust-root "$work/keys/root.pub" \
  --kubeconfig "$work/kubeconfig" -n bench --yes --timeout 600
