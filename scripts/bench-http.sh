#!/usr/bin/env bash
# HTTP benchmarks of issue 3, measured the fair way: `gatehouse serve` alone
# on core 0 (taskset), the load tool on core 1, and the
# one-core bounds (RSA-2048 signatures, argon2id hashes) measured on core 0
# in the same run, before and after the load, while the server is idle.
#
#   scripts/bench-http.sh [sso|signin|flood|all] [duration]
#
# The server runs with the binary's own processor settings (GOMAXPROCS
# from the one CPU it may use, doubled for the hashing threads: see
# cmd/gatehouse/gc.go); SERVER_GOMAXPROCS=n sets GOMAXPROCS explicitly.
#
# GATEHOUSE_BIN=path measures another build of gatehouse (for a before/after);
# PERF_OUT=file records a CPU profile of the server (perf, cpu-clock) during
# each closed-loop SSO run and the sign-in run ($PERF_OUT-signin).
#
# Figures go to stdout with the load average; see docs/benchmarks.md.
set -euo pipefail
what=${1:-all}
dur=${2:-15s}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; wait $srv 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$root"
if [[ -n ${GATEHOUSE_BIN:-} ]]; then cp "$GATEHOUSE_BIN" "$work/gatehouse"; else go build -o "$work/gatehouse" ./cmd/gatehouse; fi
go build -o "$work/gatehouse-load" ./cmd/gatehouse-load
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export GATEHOUSE_DATA_DIR="$work/data" GATEHOUSE_LISTEN="127.0.0.1:$port" GATEHOUSE_BASE_URL="$base" \
  GATEHOUSE_API_RATE_LIMIT=1000000 GATEHOUSE_SIGNIN_IP_LIMIT=100000000 GATEHOUSE_LOCKOUT_AFTER=100 GATEHOUSE_LOG_LEVEL=warn
token=$("$work/gatehouse" token create --name load 2>/dev/null)
${SERVER_GOMAXPROCS:+env GOMAXPROCS=$SERVER_GOMAXPROCS} taskset -c 0 "$work/gatehouse" serve >"$work/serve.log" 2>&1 &
srv=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
load() { taskset -c 1 "$work/gatehouse-load" "$@" -base "$base" -token "$token" -server-pid "$srv"; }
bound() { taskset -c 0 "$work/gatehouse-load" bound -what "$1"; }
# the event log's commits and events so far (their ratio: the group size)
logcounts() { curl -s "$base/metrics" | awk '/^gatehouse_event_log_(commits|events)_total/ {printf "%s ", $2}'; }
echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
if [[ $what == sso || $what == all ]]; then
  bound rsa
  for mode in "" "-both"; do
    load sso $mode -c 8 -d 3s >/dev/null # warm up: app, keys, connections
    perfpid=
    if [[ -n ${PERF_OUT:-} ]]; then perf record -e cpu-clock -F 999 -g -p "$srv" -o "$PERF_OUT$mode" -- sleep 8 >/dev/null 2>&1 & perfpid=$!; fi
    before=$(logcounts)
    out=$(load sso $mode -c 8 -d "$dur"); echo "$out"
    python3 -c "import sys; v=list(map(float,sys.argv[1:])); len(v)==4 and print('event log: %.2f events per commit' % ((v[3]-v[1])/max(v[2]-v[0],1)))" $before $(logcounts)
    [[ -z $perfpid ]] || wait "$perfpid" || true
    peak=$(sed -n 's/.*s: \([0-9.]*\)\/s.*/\1/p' <<<"$out")
    load sso $mode -c 8 -d "$dur" -rate "$(python3 -c "print(round($peak/2))")"
  done
  bound rsa
fi
if [[ $what == signin || $what == all ]]; then
  bound argon2
  perfpid=
  if [[ -n ${PERF_OUT:-} ]]; then perf record -e cpu-clock -F 999 -g -p "$srv" -o "$PERF_OUT-signin" -- sleep 8 >/dev/null 2>&1 & perfpid=$!; fi
  load signin -c 4 -d "$dur"
  [[ -z $perfpid ]] || wait "$perfpid" || true
  bound argon2
fi
if [[ $what == flood || $what == all ]]; then
  # performance-security.md 3.4 (hash DoS): already signed-in people's SSO
  # at half its peak, alone and then beside a flood of password sign-ins
  # (40 connections: the hashing slots always busy, 40 sign-ins queued).
  load sso -c 8 -d 3s >/dev/null
  peak=$(load sso -c 8 -d 5s | sed -n 's/.*s: \([0-9.]*\)\/s.*/\1/p')
  rate=$(python3 -c "print(round($peak/2))")
  echo "flood: SSO peak $peak/s, measuring at $rate/s"
  load sso -c 8 -d "$dur" -rate "$rate"
  load signin -c 40 -d "$(python3 -c "print(${dur%s}+4)")s" -login flood@example.com & fl=$!
  sleep 2
  load sso -c 8 -d "$dur" -rate "$rate"
  wait $fl
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
