#!/usr/bin/env bash
# ./test.sh — builds and runs the whole test suite (unit, end-to-end over real sockets, storage and cluster tests
# against real PostgreSQL/Redis/S3, browser tests in headless Chromium). Start the backends first with
# `eval "$(tools/services.sh start)"` (the CI script does); without CHAT_PG/CHAT_REDIS/CHAT_S3 those tests skip
# locally, and in CI (CI=true) a skip fails the run.
set -uo pipefail
cd "$(dirname "$0")"
dotnet build Chat.slnx -c Release -v q -nologo || exit 1
dotnet test Chat.slnx -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee /tmp/chat-test-output.log
rc=${PIPESTATUS[0]}
# VSTest's own summary is not read by CI: add the plain totals line ("Passed: N" etc. under each "Total tests:").
awk '/^Total tests:/ { in_summary = 1; next }
     in_summary && $1 == "Passed:"  { p += $2; next }
     in_summary && $1 == "Failed:"  { f += $2; next }
     in_summary && $1 == "Skipped:" { s += $2; next }
     { in_summary = 0 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' /tmp/chat-test-output.log
exit "$rc"
