#!/usr/bin/env bash
# Benchmark (not a test): the airlock server on the local control plane at 100 concurrent users: p50/p99 of the
# login callback (against the stand-in OpenID provider, since Keycloak would be the bottleneck), of kube-token and
# of a registry token, against the 50 ms p99 goal; the JVM's peak memory. See bench/ServerBench.java.
# PROBE=1 first prints the cost of single API-server round trips (a Secret GET, an audit append, a roles read) and of
# a bare HTTP request to the server, sequentially, for scale. USERS and REQUESTS (per user) change the load.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
[ -f installer/target/classes/dev/airlock/installer/server/AirlockServer.class ] \
  || ./mvnw -q -B -DskipTests install -pl installer -am
./mvnw -q -B test-compile -pl sso >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl installer -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
cp="$(cat "$cp_file"):installer/target/classes:sso/target/test-classes"
# The stand-in provider (a JDK HTTP server too) loads the JDK server classes before airlock's Web sets this.
java -Dsun.net.httpserver.nodelay=true -cp "$cp" bench/ServerBench.java "${USERS:-100}" "${REQUESTS:-10}"
