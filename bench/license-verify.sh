#!/usr/bin/env bash
# Benchmark (not a test): license verification time after warm-up, against the JDK's Ed25519 as a peer.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
[ -f license/target/classes/dev/airlock/license/LicenseVerifier.class ] || ./mvnw -q -B -DskipTests install -pl license -am
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B dependency:build-classpath -pl license -Dmdep.outputFile="$cp_file" >/dev/null
java -cp "$(cat "$cp_file"):license/target/classes" bench/LicenseVerify.java
