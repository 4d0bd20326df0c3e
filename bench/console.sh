#!/usr/bin/env bash
# Benchmark (not a test): the console's pages rendered by the airlock server with 1,000 operations in the
# installation record and 10,000 audit events, on the local control plane; p50/p95 per page and the ratio to the
# 200 ms goal. OPERATIONS and EVENTS change the sizes. See bench/ConsoleBench.java.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
[ -f installer/target/classes/dev/airlock/installer/server/ConsolePages.class ] \
  || ./mvnw -q -B -DskipTests install -pl installer -am
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl installer -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
java -Dsun.net.httpserver.nodelay=true -cp "$(cat "$cp_file"):installer/target/classes" bench/ConsoleBench.java \
  "${OPERATIONS:-1000}" "${EVENTS:-10000}"
