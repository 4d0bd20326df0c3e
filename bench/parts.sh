#!/usr/bin/env bash
# Benchmark (not a test): a bundle split into 8 parts against the same bundle as one file, in one run.
#  - `airlock bundle push` from the first part vs from the file, each into an empty registry (goal: ratio <= 1.03);
#  - `airlock install` from the first part vs from the file on the local control plane (same goal), with the bytes
#    each wrote to disk (goal: no more from parts than from the file: parts are read in place, never joined);
#  - `airlock bundle split` of the file vs `cp` of it, both made durable (split fsyncs its parts; cp is followed by
#    sync FILE) (goal: ratio <= 1.2), the whole command and its split phase alone (without the JVM's start).
# SIZE sets the bundle's size (default 4GiB; e.g. SIZE=512MiB); IMAGES the number of images (default 16): one 8 MiB
# layer shared by all, the rest split evenly into one unique layer per image.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
size=${SIZE:-4GiB}
images=${IMAGES:-16}
size_mib=$(python3 -c "
import re, sys
m = re.fullmatch(r'([0-9.]+)\s*([KMGT]i?B?)?', sys.argv[1], re.I) or sys.exit('SIZE: write e.g. 4GiB or 512MiB')
unit = (m.group(2) or 'MiB').upper(); base = 1024 if 'I' in unit else 1000
print(int(float(m.group(1)) * base ** ' KMGT'.index(unit[0]) / 2 ** 20))" "$size")
unique_mib=$(( (size_mib - 8) / images )); [ "$unique_mib" -ge 1 ] || unique_mib=1

src=$(start_registry source)
make_keys
./mvnw -q -B dependency:build-classpath -pl test-support -Dmdep.outputFile="$work/tscp" >/dev/null
java -cp "$(cat "$work/tscp"):test-support/target/classes" dev.airlock.testing.kube.LocalControlPlane \
  "$work/kubeconfig" > "$work/control-plane.log" 2>&1 &
echo $! >> "$work/pids"
echo "== seeding $images images of 8 MiB shared + $unique_mib MiB each into $src"
java -cp "$bench_cp" bench/SeedImages.java "$src" bench "$images" 8 1 "$unique_mib" 11 2>/dev/null
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
{ printf 'images:\n'; for i in $(seq 0 $((images - 1))); do printf '  - %s/bench/app%s:1.0\n' "$src" "$i"; done; } \
  > "$work/values.yaml"
printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: 1.0.0\ncomponents:\n  - name: bench\n    chart: {path: chart}\n    values: [values.yaml]\n' \
  > "$work/bundle.yaml"
mkdir -p "$work/one"
./airlock bundle build -f "$work/bundle.yaml" -o "$work/one/bench.airlock" --key "$work/keys/signing.key" \
  --cert "$work/keys/signing.cert" --insecure-registry "$src" >/dev/null 2>"$work/build.err" \
  || { cat "$work/build.err"; exit 1; }
bundle="$work/one/bench.airlock"
bytes=$(stat -c %s "$bundle")
part=$(( (bytes + 7) / 8 ))
echo "bundle: $bytes bytes; parts of at most $part bytes"
until=$(date -d '+1 year' +%F)
./airlock license issue --customer Bench --product bench --expires "$until" --updates-until "$until" --seats 10 \
  --key "$work/keys/signing.key" --cert "$work/keys/signing.cert" -o "$work/bench.license" >/dev/null

secs() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
ratio() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }

echo "== split vs cp (page cache warm for both: the file is read once first)"
cat "$bundle" > /dev/null
sync
c0=$(date +%s.%N); cp "$bundle" "$work/copy.airlock"; sync "$work/copy.airlock"; c1=$(date +%s.%N)
rm -f "$work/copy.airlock"; sync
read -r split_s split_phase _ <<< "$(phase_seconds split ./airlock bundle split "$bundle" --part-size "$part" \
  -o "$work/parts" --key "$work/keys/signing.key" --cert "$work/keys/signing.cert" --output json)"
cp_s=$(secs "$c0" "$c1")
first=$(ls "$work"/parts/bench.airlock.part-001-of-*)
echo "parts: $(ls "$work/parts" | grep -c part-) + $(ls "$work/parts" | grep -c '\.parts$') part list"

# timed NAME CMD...: runs CMD under GNU time; prints seconds, peak RSS (MB) and bytes written to disk.
timed() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M %O' -o "$work/$name.usage" "$@" > "$work/$name.out" 2>"$work/$name.err" \
    || { cat "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  read -r rss blocks < "$work/$name.usage"
  echo "$(secs "$t0" "$t1") $((rss / 1024)) $((blocks * 512))"
}
echo "== push into empty registries"
# Each side twice, alternating, into fresh registries; the faster run of each counts.
best() { python3 -c 'import sys; print(min(sys.argv[1:], key=lambda r: float(r.split()[0])))' "$@"; }
runs_file=(); runs_parts=()
for round in 1 2; do
  r=$(start_registry "push-file-$round")
  runs_file+=("$(timed "push-file-$round" ./airlock bundle push "$bundle" --registry "$r/bench" \
    --insecure-registry "$r" --trust-root "$work/keys/root.pub")")
  r=$(start_registry "push-parts-$round")
  runs_parts+=("$(timed "push-parts-$round" ./airlock bundle push "$first" --registry "$r/bench" \
    --insecure-registry "$r" --trust-root "$work/keys/root.pub")")
done
read -r pf_s pf_rss pf_w <<< "$(best "${runs_file[@]}")"
read -r pp_s pp_rss pp_w <<< "$(best "${runs_parts[@]}")"

for _ in $(seq 1 600); do [ -f "$work/kubeconfig" ] && break; sleep 0.1; done
[ -f "$work/kubeconfig" ] || { cat "$work/control-plane.log" >&2; exit 1; }
echo "== install on the local control plane (an empty registry and namespace each; each side twice, alternating)"
install() { # NAME BUNDLE NAMESPACE
  local r; r=$(start_registry "install-$1")
  timed "install-$1" ./airlock install --bundle "$2" --license "$work/bench.license" \
    --trust-root "$work/keys/root.pub" --registry "$r/bench" --insecure-registry "$r" \
    --kubeconfig "$work/kubeconfig" -n "$3" --yes --no-wait
}
runs_file=(); runs_parts=()
for round in 1 2; do
  runs_file+=("$(install "file-$round" "$bundle" "bench-file-$round")")
  runs_parts+=("$(install "parts-$round" "$first" "bench-parts-$round")")
done
read -r if_s if_rss if_w <<< "$(best "${runs_file[@]}")"
read -r ip_s ip_rss ip_w <<< "$(best "${runs_parts[@]}")"

echo
printf 'bundle %s (%d bytes), %d images, 8 parts of at most %d bytes\n' "$size" "$bytes" "$images" "$part"
printf 'push    from the file:  %7.2f s  peak RSS %4d MB  wrote %d bytes\n' "$pf_s" "$pf_rss" "$pf_w"
printf 'push    from 8 parts:   %7.2f s  peak RSS %4d MB  wrote %d bytes   ratio parts/file %s (goal <= 1.03)\n' \
  "$pp_s" "$pp_rss" "$pp_w" "$(ratio "$pp_s" "$pf_s")"
printf 'install from the file:  %7.2f s  peak RSS %4d MB  wrote %d bytes\n' "$if_s" "$if_rss" "$if_w"
printf 'install from 8 parts:   %7.2f s  peak RSS %4d MB  wrote %d bytes   ratio parts/file %s (goal <= 1.03)\n' \
  "$ip_s" "$ip_rss" "$ip_w" "$(ratio "$ip_s" "$if_s")"
printf 'extra disk written by the install from parts: %d bytes (goal 0)\n' "$(( ip_w > if_w ? ip_w - if_w : 0 ))"
printf 'cp + sync:              %7.2f s\n' "$cp_s"
printf 'airlock bundle split:   %7.2f s   ratio split/cp %s (goal <= 1.2); the split phase alone (no JVM start, head checks): %.2f s, ratio %s\n' \
  "$split_s" "$(ratio "$split_s" "$cp_s")" "$split_phase" "$(ratio "$split_phase" "$cp_s")"
