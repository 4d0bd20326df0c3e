#!/usr/bin/env bash
# Benchmark (not a test): airlock support-bundle on 500 pods across 20 namespaces of the local control plane, with
# each container's log served through the API server, against kubectl get of the same resources in the same run
# (bench/SupportBench.java). NAMESPACES and PODS change the size.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v etcd >/dev/null || { echo "needs etcd: apt-get install etcd-server" >&2; exit 2; }
export AIRLOCK_K8S_BIN=${AIRLOCK_K8S_BIN:-$(cd "$repo/../shared/k8s" 2>/dev/null && pwd)}
[ -f deploy/target/classes/dev/airlock/deploy/support/SupportBundle.class ] || ./mvnw -q -B -DskipTests install
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl deploy -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
kubectl=""
for k in "$AIRLOCK_K8S_BIN/kubectl" "${XDG_CACHE_HOME:-$HOME/.cache}"/airlock/test-k8s/*/kubectl; do
  [ -x "$k" ] && kubectl=$k && break
done
[ -n "$kubectl" ] || { echo "no kubectl: run the Kubernetes tests once (they unpack it)" >&2; exit 2; }
java -cp "$(cat "$cp_file"):deploy/target/classes" bench/SupportBench.java "$kubectl" "${NAMESPACES:-20}" "${PODS:-500}"
