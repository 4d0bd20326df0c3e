#!/usr/bin/env bash
# Benchmark (not a test): a bundle uploaded to the console in the page's 8 MiB chunks, against copying the same file
# on the same disk, with a 256 MiB heap for server and client together: the upload is streamed to disk. SIZE_MIB
# (default 2048) sets the file's size. See bench/UploadBench.java.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
[ -f installer/target/classes/dev/airlock/installer/server/Uploads.class ] \
  || ./mvnw -q -B -DskipTests install -pl installer -am
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl installer -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
java -Xmx256m -Dsun.net.httpserver.nodelay=true -cp "$(cat "$cp_file"):installer/target/classes" \
  bench/UploadBench.java "${SIZE_MIB:-2048}"
