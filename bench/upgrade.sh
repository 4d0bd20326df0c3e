#!/usr/bin/env bash
# Benchmark (not a test) for upgrades, with what exists today (bundle build --delta-from, bundle push):
# 50 images (an 8 MiB layer shared by all, a 20 MiB layer each); v2 changes one image's layer.
#   - delta bundle size / size of the changed blobs (goal <= 1.01)
#   - pushing the v2 delta onto a registry holding v1 / pushing v1 into an empty registry (goal <= 0.05)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
images=${IMAGES:-50}
src=$(start_registry source)
target=$(start_registry target)
make_keys
echo "== seeding $images images, then a changed layer for app0"
java -cp "$bench_cp" bench/SeedImages.java "$src" bench "$images" 8 1 20 9 1.0 2>/dev/null
java -cp "$bench_cp" bench/SeedImages.java "$src" bench 1 8 1 20 9 1.1 500000 2>/dev/null
mkdir -p "$work/chart"
printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$work/chart/Chart.yaml"
spec() { # version tag-of-app0
  printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: %s\n' "$1"
  printf 'components:\n  - name: bench\n    chart: {path: chart}\nimages:\n'
  printf '  - %s/bench/app0:%s\n' "$src" "$2"
  for i in $(seq 1 $((images - 1))); do printf '  - %s/bench/app%s:1.0\n' "$src" "$i"; done
}
spec 1.0.0 1.0 > "$work/v1.yaml"
spec 1.1.0 1.1 > "$work/v2.yaml"
build() { ./airlock bundle build -f "$work/$1.yaml" -o "$work/$2" --key "$work/keys/signing.key" \
  --cert "$work/keys/signing.cert" --insecure-registry "$src" "${@:3}" >/dev/null 2>&1; }
build v1 v1.airlock
build v2 v2-delta.airlock --delta-from "$work/v1.airlock"
push() { phase_seconds push ./airlock bundle push "$work/$1" --registry "$target/bench" --insecure-registry "$target" \
  --trust-root "$work/keys/root.pub" --output json; }
read -r full_s full_phase full <<< "$(push v1.airlock)"
read -r up_s up_phase upgrade <<< "$(push v2-delta.airlock)"

changed=$(./airlock bundle inspect "$work/v2-delta.airlock" --output json | python3 -c '
import json,sys
m=json.load(sys.stdin)
print(m["totals"]["uniqueBytes"])')
delta_size=$(stat -c %s "$work/v2-delta.airlock")
v1_size=$(stat -c %s "$work/v1.airlock")
printf 'v1 bundle %d bytes; v2 delta %d bytes; blobs stored in the delta %d bytes (the new layer, its config, manifests)\n' \
  "$v1_size" "$delta_size" "$changed"
printf 'delta size / changed blobs: %.4f\n' "$(echo "$delta_size / $changed" | bc -l)"
printf 'full push of v1: %.2f s wall, %.2f s pushing (%s blobs uploaded)\n' "$full_s" "$full_phase" \
  "$(echo "$full" | python3 -c 'import json,sys; print(json.load(sys.stdin)["blobsUploaded"])')"
printf 'upgrade push of the v2 delta: %.2f s wall, %.2f s pushing (%s blobs uploaded)\n' "$up_s" "$up_phase" \
  "$(echo "$upgrade" | python3 -c 'import json,sys; print(json.load(sys.stdin)["blobsUploaded"])')"
printf 'upgrade push / full push: %.3f wall (JVM start and verification included), %.3f pushing\n' \
  "$(echo "$up_s / $full_s" | bc -l)" "$(echo "$up_phase / $full_phase" | bc -l)"
