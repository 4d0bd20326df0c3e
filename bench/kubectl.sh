#!/usr/bin/env bash
# Benchmark (not a test): kubectl through the kubeconfig `airlock login` writes against kubectl with a static token
# of the same ServiceAccount, on the local control plane with a running airlock server (bench/ServerBench.java,
# kubectl mode). Prints, in one run: the kubectl ratio (goal <= 1.3), the plugin alone cached against a bare JVM
# (p95 goal <= 1.5x), the plugin uncached (server round trip with its TokenRequest; p50 goal <= 300 ms), and
# airlock --help against a bare JVM (goal < 300 ms). RUNS (default 20) changes the sample size.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
[ -f installer/target/quarkus-app/kube-token.jsa ] || ./mvnw -q -B -DskipTests install
./mvnw -q -B test-compile -pl sso,test-support >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl installer -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
cp="$(cat "$cp_file"):installer/target/classes:sso/target/test-classes"
# kubectl from the test binaries (unpacked by the tests into ~/.cache/airlock/test-k8s, or plain in AIRLOCK_K8S_BIN).
kubectl=""
for k in "$AIRLOCK_K8S_BIN/kubectl" "${XDG_CACHE_HOME:-$HOME/.cache}"/airlock/test-k8s/*/kubectl; do
  [ -x "$k" ] && kubectl=$k && break
done
[ -n "$kubectl" ] || { echo "no kubectl: run the Kubernetes tests once (they unpack it), or put it in AIRLOCK_K8S_BIN" >&2; exit 2; }
java -Dsun.net.httpserver.nodelay=true -cp "$cp" bench/ServerBench.java kubectl "$repo/airlock" "$kubectl" "${RUNS:-20}"
