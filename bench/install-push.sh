#!/usr/bin/env bash
# Benchmark (not a test): pushing a bundle's images into an empty registry with `airlock bundle push`, against
# skopeo copying the same images from the bundle's OCI layout (extracted) into another empty registry, in one run.
# Prints both times, the ratio, airlock's peak RSS and the bytes it wrote to disk, then the re-run with everything
# present. 50 images: one 8 MiB layer shared by all plus a 20 MiB layer each (about 1 GiB).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
images=${IMAGES:-50}

src=$(start_registry source)
echo "== seeding $images images into $src"
java -cp "$bench_cp" bench/SeedImages.java "$src" bench "$images" 8 1 20 7 2>/dev/null
mkdir -p "$work/chart"
printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$work/chart/Chart.yaml"
{
  printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: 1.0.0\n'
  printf 'components:\n  - name: bench\n    chart: {path: chart}\nimages:\n'
  for i in $(seq 0 $((images - 1))); do printf '  - %s/bench/app%s:1.0\n' "$src" "$i"; done
} > "$work/bundle.yaml"
make_keys
./airlock bundle build -f "$work/bundle.yaml" -o "$work/bench.airlock" --key "$work/keys/signing.key" \
  --cert "$work/keys/signing.cert" --insecure-registry "$src" >/dev/null 2>&1
mkdir -p "$work/layout" && tar -xf "$work/bench.airlock" -C "$work/layout"
echo "bundle: $(du -h "$work/bench.airlock" | cut -f1)"

t_skopeo=$(start_registry skopeo-target)
t_airlock=$(start_registry airlock-target)
sync

s0=$(date +%s.%N)
for i in $(seq 0 $((images - 1))); do
  skopeo copy --dest-tls-verify=false "oci:$work/layout:$src/bench/app$i:1.0" \
    "docker://$t_skopeo/bench/app$i:1.0" >/dev/null
done
s1=$(date +%s.%N)
/usr/bin/time -f '%M %O' -o "$work/usage" ./airlock bundle push "$work/bench.airlock" --registry "$t_airlock/bench" \
  --insecure-registry "$t_airlock" --trust-root "$work/keys/root.pub" > /dev/null 2>"$work/push.err" \
  || { cat "$work/push.err"; exit 1; }
s2=$(date +%s.%N)
./airlock bundle push "$work/bench.airlock" --registry "$t_airlock/bench" --insecure-registry "$t_airlock" \
  --trust-root "$work/keys/root.pub" > "$work/rerun.out" 2>&1
s3=$(date +%s.%N)

read -r rss blocks < "$work/usage"
skopeo_s=$(echo "$s1 - $s0" | bc); airlock_s=$(echo "$s2 - $s1" | bc); rerun_s=$(echo "$s3 - $s2" | bc)
bundle_bytes=$(stat -c %s "$work/bench.airlock")
printf 'skopeo copy (%d images, OCI layout -> registry): %7.2f s\n' "$images" "$skopeo_s"
printf 'airlock bundle push (bundle -> registry):        %7.2f s   peak RSS %d MB   wrote %d bytes to disk (%.4f%% of the bundle)\n' \
  "$airlock_s" "$((rss / 1024))" "$((blocks * 512))" "$(echo "$blocks * 512 * 100 / $bundle_bytes" | bc -l)"
printf 'ratio airlock/skopeo: %.2f\n' "$(echo "$airlock_s / $skopeo_s" | bc -l)"
printf 're-run with everything present: %.2f s (%s)\n' "$rerun_s" "$(grep -o '[0-9]* blobs uploaded' "$work/rerun.out" | head -1)"
