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
awk -F'[:,]' '/(Passed|Failed)!/ { for (i = 1; i < NF; i++) { if ($i ~ /Failed$/) f += $(i+1); if ($i ~ /Passed$/) p += $(i+1); if ($i ~ /Skipped$/) s += $(i+1) } }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' /tmp/chat-test-output.log
exit "$rc"
