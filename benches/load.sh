#!/usr/bin/env bash
# One load run against a fresh service: a new database in a temp dir, the release build on
# 127.0.0.1:18080, then triage-loadgen with the arguments given, then the server stops.
# Without --standin the service runs in demo mode and replies go to its built-in stand-in (which
# answers at once). With `--standin ADDR` the service sends to the stand-in that triage-loadgen
# serves at ADDR, whose --latency-ms, --slow-share, --slow-ms and --close-connections make it
# behave like the real API.
# Examples: benches/load.sh --messages 20000 --connections 32 --drain
#           benches/load.sh --messages 3000 --drain --standin 127.0.0.1:18081 --latency-ms 150
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
D=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$D"' EXIT
STANDIN=
prev=
for a in "$@"; do
  [ "$prev" = --standin ] && STANDIN=$a
  case $a in --standin=*) STANDIN=${a#--standin=} ;; esac
  prev=$a
done
if [ -n "$STANDIN" ]; then
  # A real account's configuration refuses the demo's public secret: the load run has its own.
  export WHATSAPP_API_BASE="http://$STANDIN" WHATSAPP_ACCESS_TOKEN=load-token \
    WHATSAPP_APP_SECRET=load-app-secret WHATSAPP_VERIFY_TOKEN=load-verify
  set -- "$@" --secret load-app-secret
fi
TRIAGE_DATABASE_URL="sqlite:$D/triage.db" TRIAGE_LISTEN=127.0.0.1:18080 TRIAGE_LOG_FORMAT=json \
  RUST_LOG=warn ./target/release/triage serve > "$D/serve.log" 2>&1 &
PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/healthz > /dev/null && break; sleep 0.1; done
./target/release/triage-loadgen --url http://127.0.0.1:18080 --db "$D/triage.db" "$@"
