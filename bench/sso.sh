#!/usr/bin/env bash
# Benchmark (not a test): SSO validation throughput on one core (ID tokens, SAML responses) against the bare
# signature checks of the libraries underneath as peers, and the OIDC callback's latency at 100 concurrent logins
# against a local stand-in provider (goal: airlock's own work under 5 ms p99). See bench/SsoBench.java.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ -d sso/target/test-classes/dev/airlock/sso/oidc ] || ./mvnw -q -B -DskipTests install -pl sso -am
./mvnw -q -B test-compile -pl sso >/dev/null
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl sso -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
cp="$(cat "$cp_file"):sso/target/classes:sso/target/test-classes"
echo "== validations per second, one core"
taskset -c 0 java -cp "$cp" bench/SsoBench.java validate
echo "== OIDC callbacks, 2000 logins, 100 concurrent ($(nproc) cores)"
java -cp "$cp" bench/SsoBench.java callback "${LOGINS:-2000}" "${CONCURRENCY:-100}"
