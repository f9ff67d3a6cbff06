#!/usr/bin/env bash
# tools/tsc/check.sh — type-checks the web client (src/Chat.Server/wwwroot/js) with the pinned TypeScript:
# tsc --checkJs --strict over the JSDoc-annotated ES modules, nothing emitted. Exits non-zero on any type error.
# Installs TypeScript from package-lock.json first (npm ci), and again only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.installed-lock.json
if ! { [ -x node_modules/.bin/tsc ] && cmp -s package-lock.json "$stamp"; }; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi
if node node_modules/typescript/bin/tsc -p tsconfig.json --pretty false; then
  echo "tsc $(node node_modules/typescript/bin/tsc --version | cut -d' ' -f2): web client type check passed"
else
  echo "tsc: web client type check FAILED (see the errors above)" >&2
  exit 1
fi
