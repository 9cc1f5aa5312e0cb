#!/usr/bin/env bash
# One load run against a fresh service: a new database in a temp dir, the release build in demo
# mode on 127.0.0.1:18080, then triage-loadgen with the arguments given, then the server stops.
# Example: benches/load.sh --messages 20000 --connections 32 --drain
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
D=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$D"' EXIT
TRIAGE_DATABASE_URL="sqlite:$D/triage.db" TRIAGE_LISTEN=127.0.0.1:18080 TRIAGE_LOG_FORMAT=json \
  RUST_LOG=warn ./target/release/triage serve > "$D/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/healthz > /dev/null && break; sleep 0.1; done
./target/release/triage-loadgen --url http://127.0.0.1:18080 --db "$D/triage.db" "$@"
