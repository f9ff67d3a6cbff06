#!/usr/bin/env bash
# tools/services.sh — install (if missing) and start the real backends the tests use, on 127.0.0.1 only.
# Idempotent; runs as root on a fresh Debian machine (apt never starts services here and there is no systemd).
#   tools/services.sh start   → PostgreSQL 15 :5432 (role/db chat/chat_test), Redis :6379, s3rver :4568, Chromium
#   tools/services.sh stop    → stops only what this script started (pid files under $SVC_DIR)
# Prints the environment the tests read (CHAT_PG, CHAT_REDIS, CHAT_S3, CHROMIUM_PATH): eval "$(tools/services.sh env)".
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SVC_DIR="${SVC_DIR:-/tmp/chat-services}"
mkdir -p "$SVC_DIR"
log() { echo "[services] $*" >&2; }

env_lines() {
  echo 'export CHAT_PG="Host=127.0.0.1;Port=5432;Username=chat;Password=chat;Database=chat_test"'
  echo 'export CHAT_REDIS="127.0.0.1:6379"'
  echo 'export CHAT_S3="http://127.0.0.1:4568"'
  echo 'export CHROMIUM_PATH="/usr/bin/chromium"'
}

install_missing() {
  local pkgs=()
  command -v pg_ctlcluster >/dev/null || pkgs+=(postgresql)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  [ -x /usr/bin/chromium ] || pkgs+=(chromium)
  command -v node >/dev/null || pkgs+=(nodejs npm)
  if [ ${#pkgs[@]} -gt 0 ]; then
    log "apt-get install ${pkgs[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$SVC_DIR/apt.log" 2>&1 || { tail -30 "$SVC_DIR/apt.log" >&2; exit 1; }
  fi
}

start_pg() {
  local ver
  ver=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1}')
  if [ -z "$ver" ]; then ver=$(ls /usr/lib/postgresql | sort -n | tail -1); pg_createcluster "$ver" main >/dev/null; fi
  if ! pg_lsclusters -h | awk -v v="$ver" '$1==v && $2=="main" && $4 ~ /online/' | grep -q .; then
    # Many test hosts run at once, each with its own connection pool: the default 100 slots are too few.
    pg_conftool "$ver" main set max_connections 300 >/dev/null 2>&1 || true
    pg_ctlcluster "$ver" main start
    echo "$ver" >"$SVC_DIR/pg.started"
  fi
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  pg_isready -q -h 127.0.0.1 -p 5432
  (cd / && runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q) <<'SQL'
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chat') THEN
    CREATE ROLE chat LOGIN PASSWORD 'chat' CREATEDB;
  END IF;
END$$;
SQL
  (cd / && runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='chat_test'") | grep -q 1 \
    || (cd / && runuser -u postgres -- createdb -O chat chat_test)
  log "postgres ready"
}

start_redis() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
      --dir "$SVC_DIR" --pidfile "$SVC_DIR/redis.pid" --logfile "$SVC_DIR/redis.log"
    touch "$SVC_DIR/redis.started"
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
  log "redis ready"
}

start_s3() {
  if ! curl -s -o /dev/null http://127.0.0.1:4568/ 2>/dev/null; then
    [ -x tools/s3rver/node_modules/.bin/s3rver ] || npm ci --prefix tools/s3rver --no-audit --no-fund >"$SVC_DIR/npm.log" 2>&1 || { tail -20 "$SVC_DIR/npm.log"; exit 1; }
    rm -rf "$SVC_DIR/s3"; mkdir -p "$SVC_DIR/s3"
    setsid nohup node tools/s3rver/node_modules/.bin/s3rver -d "$SVC_DIR/s3" -a 127.0.0.1 -p 4568 -s \
      --configure-bucket chat-uploads >"$SVC_DIR/s3rver.log" 2>&1 </dev/null &
    echo $! >"$SVC_DIR/s3rver.pid"
    for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:4568/ 2>/dev/null && break; sleep 0.2; done
  fi
  curl -s -o /dev/null http://127.0.0.1:4568/
  log "s3rver ready"
}

stop_all() {
  if [ -f "$SVC_DIR/pg.started" ]; then pg_ctlcluster "$(cat "$SVC_DIR/pg.started")" main stop -m fast || true; rm -f "$SVC_DIR/pg.started"; fi
  if [ -f "$SVC_DIR/redis.started" ] && [ -f "$SVC_DIR/redis.pid" ]; then kill "$(cat "$SVC_DIR/redis.pid")" 2>/dev/null || true; rm -f "$SVC_DIR/redis.started"; fi
  if [ -f "$SVC_DIR/s3rver.pid" ]; then kill "$(cat "$SVC_DIR/s3rver.pid")" 2>/dev/null || true; rm -f "$SVC_DIR/s3rver.pid"; fi
}

case "${1:-start}" in
  # Only the export lines go to stdout (they are eval'd); anything the tools print goes to stderr.
  start) { install_missing; start_pg; start_redis; start_s3; } >&2; env_lines ;;
  stop) stop_all ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
