#!/usr/bin/env bash
# Benchmark (not a test): RBAC at 1,000 users x 20 roles x 200 namespaces: full compile time and object count, one
# changed mapping (objects touched, and whether they all concern that group's users), decisions per second on one
# core; each printed against its goal. See bench/RbacBench.java.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ -f rbac/target/classes/dev/airlock/rbac/Compiler.class ] || ./mvnw -q -B -DskipTests install -pl rbac -am
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl rbac -Dmdep.outputFile="$cp_file" >/dev/null
cp="$(cat "$cp_file"):rbac/target/classes"
java -cp "$cp" bench/RbacBench.java
taskset -c 0 java -cp "$cp" bench/RbacBench.java decisions
