#!/usr/bin/env bash
# Runs the five measurements of issue 7 against a server that is ALREADY running on $URL
# (start it with the rate limit off, see docs/benchmarks.md). Results land in bench/Chat.LoadTest/results.
# Sizes are environment variables so the same script fits a 2-core box or a bigger one.
set -euo pipefail
cd "$(dirname "$0")/../.."
URL="${URL:-http://127.0.0.1:8080}"
USERS="${USERS:-10000}"              # direct: users in pairs
RAMP="${RAMP:-1000,2000,3000,4000,6000,8000,10000,12000}"
STEP="${STEP:-20}"                   # seconds per ramp step
CONNS="${CONNS:-19000}"              # idle sockets (capped by the fd limit of both processes), 2 per user
GROUP_MEMBERS="${GROUP_MEMBERS:-500}"
CATCHUP_DEVICES="${CATCHUP_DEVICES:-10000}"
CATCHUP_MESSAGES="${CATCHUP_MESSAGES:-20}"
ulimit -n "$(ulimit -Hn)" || true
T="dotnet bench/Chat.LoadTest/bin/Release/net10.0/chat-loadtest.dll"
dotnet build -c Release -v q -nologo bench/Chat.LoadTest >/dev/null
set -x
SENDERS=1000
NEED=$(( USERS > CATCHUP_DEVICES + SENDERS ? USERS : CATCHUP_DEVICES + SENDERS ))
NEED=$(( NEED > CONNS / 2 ? NEED : CONNS / 2 ))
$T setup --url "$URL" --users "$NEED"
$T direct --url "$URL" --users "$USERS" --ramp "$RAMP" --duration "$STEP" --stop-p99-ms 2000  # 1. throughput ramp
$T direct --url "$URL" --users "$USERS" --rate 2000 --duration 60                              # 2. latency at moderate load
$T connections --url "$URL" --users "$((CONNS / 2))" --sockets-per-user 2 --duration 60          # 3. idle sockets (restart the server first: RSS of a fresh process)
$T group --url "$URL" --groups 1 --members "$GROUP_MEMBERS" --senders 20 --rate 20 --duration 60   # 4. 500-member group
$T catchup --url "$URL" --users "$CATCHUP_DEVICES" --messages "$CATCHUP_MESSAGES" --senders "$SENDERS" # 5. reconnect storm
