#!/usr/bin/env bash
# Benchmark (not a test): `airlock bundle build` against skopeo copying the same images into one OCI layout plus
# `tar` of it, in one run, from the same local registry. Prints both times, the ratio, sizes and airlock's peak RSS,
# for a ~1 GiB and a ~4 GiB image set (8 images; one layer shared by all, about 30% of each image).
#   bench/bundle-build.sh            both sizes
#   bench/bundle-build.sh 1          only the 1 GiB set
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
host=$(start_registry source)
keys="$work/keys"
make_keys

run_set() {
  local gib=$1 shared=$2 unique=$3 layers=3 images=8
  local prefix="set${gib}g"
  echo "== ${gib} GiB set: $images images, each a ${shared} MiB shared layer + $layers x ${unique} MiB unique layers"
  java -cp "$bench_cp" bench/SeedImages.java "$host" "$prefix" "$images" "$shared" "$layers" "$unique" "$gib" 2>/dev/null
  local spec="$work/$prefix.yaml"
  mkdir -p "$work/chart-$prefix/templates"
  printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$work/chart-$prefix/Chart.yaml"
  {
    printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: 1.0.0\n'
    printf 'components:\n  - name: bench\n    chart: {path: chart-%s}\nimages:\n' "$prefix"
    for i in $(seq 0 $((images - 1))); do printf '  - %s/%s/app%s:1.0\n' "$host" "$prefix" "$i"; done
  } > "$spec"
  sync

  # skopeo: every image into one OCI layout, then tar it (what a bundle needs).
  local t0 t1 t2
  t0=$(date +%s.%N)
  for i in $(seq 0 $((images - 1))); do
    skopeo copy --all --src-tls-verify=false "docker://$host/$prefix/app$i:1.0" "oci:$work/layout-$prefix:app$i" >/dev/null
  done
  tar -cf "$work/skopeo-$prefix.tar" -C "$work/layout-$prefix" .
  sync
  t1=$(date +%s.%N)
  rm -rf "$work/layout-$prefix"

  # airlock: cold cache.
  /usr/bin/time -f '%M' -o "$work/rss" ./airlock bundle build -f "$spec" -o "$work/$prefix.airlock" \
    --key "$keys/signing.key" --cert "$keys/signing.cert" --insecure-registry "$host" \
    > /dev/null 2>"$work/build.err" || { cat "$work/build.err"; exit 1; }
  sync
  t2=$(date +%s.%N)
  local skopeo_s airlock_s
  skopeo_s=$(echo "$t1 - $t0" | bc)
  airlock_s=$(echo "$t2 - $t1" | bc)
  printf 'skopeo copy + tar:  %8.2f s   %s\n' "$skopeo_s" "$(du -h "$work/skopeo-$prefix.tar" | cut -f1)"
  printf 'airlock build:      %8.2f s   %s   peak RSS %d MB\n' "$airlock_s" "$(du -h "$work/$prefix.airlock" | cut -f1)" \
    "$(( $(cat "$work/rss") / 1024 ))"
  printf 'ratio airlock/skopeo: %.2f\n' "$(echo "$airlock_s / $skopeo_s" | bc -l)"
  rm -rf "$work/skopeo-$prefix.tar" "$work/$prefix.airlock"
}

[ -n "${KEEP:-}" ] && { echo "HOST $host WORK $work"; trap - EXIT; }
run_set 1 40 30
[ "${1:-}" = "1" ] || run_set 4 160 120
