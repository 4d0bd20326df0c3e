#!/usr/bin/env bash
# Bundles the example platform into examples/platform/out/platform-VERSION.airlock (VERSION from bundle.yaml), then
# verifies and inspects it.
#
#   examples/platform/build.sh                 pull the images from their upstream registries (docker.io)
#   examples/platform/build.sh --demo-mirror   no internet: start a local registry seeded with stand-in images
#   examples/platform/build.sh --mirror docker.io=HOST/PREFIX [--insecure-registry HOST] ...
#                                              pull through your own mirror; extra flags go to `bundle build`
#
# Vendor keys are created once in examples/platform/out/keys (a real vendor keeps root.key offline).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out="$repo/examples/platform/out"
airlock="$repo/airlock"
mkdir -p "$out/keys"
cd "$repo"
if [ ! -f installer/target/quarkus-app/quarkus-run.jar ]; then
  echo "building airlock first (./mvnw -DskipTests install; about a minute, once)..." >&2
  ./mvnw -q -B -DskipTests install
fi

extra=()
mirror_pid=""
mirror_out=""
cleanup() {
  if [ -n "$mirror_pid" ]; then kill "$mirror_pid" 2>/dev/null || true; wait "$mirror_pid" 2>/dev/null || true; fi
  [ -n "$mirror_out" ] && rm -f "$mirror_out" || true
}
trap cleanup EXIT
if [ "${1:-}" = "--demo-mirror" ]; then
  shift
  command -v docker-registry >/dev/null || { echo "--demo-mirror needs docker-registry (apt-get install docker-registry)" >&2; exit 2; }
  echo "starting a local registry with stand-in images (the demo mirror)..." >&2
  ./mvnw -q -B dependency:build-classpath -pl test-support -Dmdep.outputFile="$out/.cp" >/dev/null
  # A fresh file per run: an earlier run's address must never be read before this mirror writes its own.
  mirror_out=$(mktemp "$out/.mirror.XXXXXX")
  java -cp "$(cat "$out/.cp"):test-support/target/classes" dev.airlock.testing.DemoMirror > "$mirror_out" 2>"$out/.mirror.log" &
  mirror_pid=$!
  for _ in $(seq 1 600); do
    grep -q '^MIRROR ' "$mirror_out" 2>/dev/null && break
    kill -0 "$mirror_pid" 2>/dev/null || break
    sleep 0.1
  done
  host=$(sed -n 's/^MIRROR //p' "$mirror_out")
  [ -n "$host" ] || { echo "the demo mirror did not start (log: $out/.mirror.log):" >&2; cat "$out/.mirror.log" >&2; exit 1; }
  echo "demo mirror with stand-in images at $host" >&2
  extra=(--mirror "docker.io=$host/hub" --insecure-registry "$host")
fi

[ -f "$out/keys/root.key" ] || "$airlock" keys create-root --out "$out/keys/root"
[ -f "$out/keys/signing.key" ] || "$airlock" keys create-signing --root-key "$out/keys/root.key" --out "$out/keys/signing" --subject "example vendor"

version=$(sed -n 's/^version: *//p' examples/platform/bundle.yaml | tr -d '"' | head -n 1)
bundle="$out/platform-$version.airlock"
if [ -f "$bundle" ]; then
  echo "replacing $bundle (the old one stays until the new one is complete)" >&2
  extra+=(--force)
fi
"$airlock" bundle build -f examples/platform/bundle.yaml -o "$bundle" \
  --key "$out/keys/signing.key" --cert "$out/keys/signing.cert" "${extra[@]}" "$@"
"$airlock" bundle verify "$bundle" --trust-root "$out/keys/root.pub"
"$airlock" bundle inspect "$bundle"
