#!/usr/bin/env bash
# Benchmark (not a test): what SBOMs cost at `airlock bundle build`. One image made of real file-system layers of
# this machine (its dpkg database and os-release, Python dist-info, the JDKs, /usr/share, Maven jars from a local
# repository: about 1.4 GiB unpacked), built with and without SBOMs; then the catalogue's throughput against plain
# gzip decompression of the same layer files, in the same run.
#   bench/sbom.sh                    M2=DIR picks the Maven repository whose org/apache jars make a layer
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
host=$(start_registry source)
keys="$work/keys"
make_keys
m2=${M2:-$HOME/.m2/repository}
parallel=4

# Layers: gzip'd tars of real directories, as an image build would make them.
mkdir -p "$work/oci/blobs/sha256" "$work/layers"
layer_dirs=("var/lib/dpkg usr/lib/os-release usr/lib/python3" "usr/lib/jvm" "usr/share")
[ -d "$m2/org/apache" ] && layer_dirs+=("${m2#/}/org/apache")
descs="" diffs=""
for i in "${!layer_dirs[@]}"; do
  # shellcheck disable=SC2086
  tar -cf - -C / --ignore-failed-read ${layer_dirs[$i]} 2>/dev/null > "$work/layers/$i.tar" || true
  diff=$(sha256sum "$work/layers/$i.tar" | cut -d' ' -f1)
  gzip -6 -c "$work/layers/$i.tar" > "$work/layers/$i.tar.gz"
  rm "$work/layers/$i.tar"
  hex=$(sha256sum "$work/layers/$i.tar.gz" | cut -d' ' -f1)
  size=$(stat -c %s "$work/layers/$i.tar.gz")
  cp "$work/layers/$i.tar.gz" "$work/oci/blobs/sha256/$hex"
  descs+="${descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
  diffs+="${diffs:+,}\"sha256:$diff\""
done
config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diffs]},\"config\":{}}"
printf '%s' "$config" > "$work/config.json"
chex=$(sha256sum "$work/config.json" | cut -d' ' -f1)
cp "$work/config.json" "$work/oci/blobs/sha256/$chex"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$chex" "$(stat -c %s "$work/config.json")" "$descs" > "$work/manifest.json"
mhex=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
cp "$work/manifest.json" "$work/oci/blobs/sha256/$mhex"
printf '{"imageLayoutVersion":"1.0.0"}' > "$work/oci/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
  "$mhex" "$(stat -c %s "$work/manifest.json")" > "$work/oci/index.json"
skopeo copy --dest-tls-verify=false "oci:$work/oci:1" "docker://$host/bench/sbom:1" >/dev/null

mkdir -p "$work/chart/templates"
printf 'apiVersion: v2\nname: bench\nversion: 0.1.0\n' > "$work/chart/Chart.yaml"
printf 'apiVersion: airlock.dev/v1alpha1\nkind: Bundle\nname: bench\nversion: 1.0.0\ncomponents:\n  - name: bench\n    chart: {path: chart}\nimages:\n  - %s/bench/sbom:1\n' \
  "$host" > "$work/bench.yaml"
packed=$(cat "$work"/layers/*.tar.gz | wc -c)
unpacked=0
for f in "$work"/layers/*.tar.gz; do unpacked=$((unpacked + $(gzip -dc "$f" | wc -c))); done
printf '== one image, %d layers: %d MB compressed, %d MB unpacked\n' "${#layer_dirs[@]}" $((packed / 1000000)) \
  $((unpacked / 1000000))

build() {
  phase_seconds sbom ./airlock bundle build -f "$work/bench.yaml" -o "$work/b.airlock" --force --output json \
    --key "$keys/signing.key" --cert "$keys/signing.cert" --insecure-registry "$host" --parallel "$parallel" "$@"
}
best_with=999999 best_without=999999 best_phase=999999
for _ in 1 2 3; do
  read -r wall phase _ < <(build --no-sbom); sync
  best_without=$(echo "if ($wall < $best_without) $wall else $best_without" | bc)
  read -r wall phase _ < <(build); sync
  best_with=$(echo "if ($wall < $best_with) $wall else $best_with" | bc)
  best_phase=$(echo "if ($phase < $best_phase) $phase else $best_phase" | bc)
done
packages=$(./airlock bundle sbom "$work/b.airlock" --image "$host/bench/sbom:1" | grep -c '"purl"' || true)

# The limit for reading the layers: gzip -dc of the same files, one at a time and $parallel at once (the
# catalogue reads distinct layers in --parallel threads).
t0=$(date +%s.%N)
for f in "$work"/layers/*.tar.gz; do gzip -dc "$f" > /dev/null; done
t1=$(date +%s.%N)
printf '%s\n' "$work"/layers/*.tar.gz | xargs -P "$parallel" -I{} sh -c 'gzip -dc "$1" > /dev/null' _ {}
t2=$(date +%s.%N)
gz_seq=$(echo "$t1 - $t0" | bc)
gz_par=$(echo "$t2 - $t1" | bc)

printf 'build without SBOMs:   %8.2f s (best of 3)\n' "$best_without"
printf 'build with SBOMs:      %8.2f s (best of 3), sbom phase %.2f s, %d packages found\n' "$best_with" \
  "$best_phase" "$packages"
printf 'overhead:              %8.1f %%\n' "$(echo "($best_with - $best_without) * 100 / $best_without" | bc -l)"
# Layers are catalogued as they land, while others still download: the sbom phase is only what is left after the
# last blob, so this rate is an upper bound of the catalogue's own throughput.
printf 'catalogue (upper bound): %6.1f MB/s compressed, %.1f MB/s unpacked\n' \
  "$(echo "$packed / 1000000 / $best_phase" | bc -l)" "$(echo "$unpacked / 1000000 / $best_phase" | bc -l)"
printf 'gzip -dc, sequential:  %8.1f MB/s compressed (%.2f s)\n' "$(echo "$packed / 1000000 / $gz_seq" | bc -l)" "$gz_seq"
printf 'gzip -dc, %d at once:   %8.1f MB/s compressed (%.2f s)\n' "$parallel" \
  "$(echo "$packed / 1000000 / $gz_par" | bc -l)" "$gz_par"
printf 'sbom phase / gzip -dc (same parallelism): %.2f\n' "$(echo "$gz_par / $best_phase" | bc -l)"
