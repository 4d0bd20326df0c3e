# Shared by the bench scripts: sourced, not run.
# Checks the tools, builds airlock if needed, makes $work, and starts registries on loopback ports.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || {
  echo "needs docker-registry and skopeo: apt-get install docker-registry skopeo" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
[ -f installer/target/quarkus-app/quarkus-run.jar ] || ./mvnw -q -B -DskipTests install
work=$(mktemp -d "${TMPDIR:-/tmp}/airlock-bench.XXXXXX")
# Registries are started inside $(...) subshells, so their PIDs go to a file the cleanup reads.
bench_cleanup() {
  [ -f "$work/pids" ] && while read -r p; do kill "$p" 2>/dev/null || true; done < "$work/pids"
  rm -rf "$work"
}
trap bench_cleanup EXIT
./mvnw -q -B dependency:build-classpath -pl bundle -Dmdep.outputFile="$work/cp" >/dev/null
bench_cp="$(cat "$work/cp"):bundle/target/classes:license/target/classes"

# start_registry NAME: a plain-HTTP registry on a free loopback port; prints HOST:PORT.
start_registry() {
  local name=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$work/$name" "$port" > "$work/$name.yml"
  docker-registry serve "$work/$name.yml" > "$work/$name.log" 2>&1 &
  echo $! >> "$work/pids"
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}

# make_keys: a root and a signing key in $work/keys.
make_keys() {
  ./airlock keys create-root --out "$work/keys/root" >/dev/null
  ./airlock keys create-signing --root-key "$work/keys/root.key" --out "$work/keys/signing" >/dev/null
}

# phase_seconds PHASE CMD...: runs CMD (which must print --output json events) and prints "WALL PHASE RESULT": the
# process's wall seconds, the seconds between PHASE's phase-started and phase-finished events (fixed costs such as
# JVM start and verification excluded), and the last JSON line.
phase_seconds() {
  python3 - "$@" <<'PY'
import json, subprocess, sys, time
phase, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic(); start = end = None; last = ""
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for line in p.stdout:
    now = time.monotonic(); last = line.strip()
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("phase") == phase and e.get("type") == "phase-started" and start is None:
        start = now
    if e.get("phase") == phase and e.get("type") == "phase-finished":
        end = now
if p.wait() != 0:
    sys.exit("failed: " + " ".join(cmd))
print("%.3f %.3f %s" % (time.monotonic() - t0, (end - start) if start and end else -1, last))
PY
}
