#!/usr/bin/env bash
# `npm test` after infra/setup.sh: lints the import boundaries (eslint.config.mjs), checks the formatting
# (Prettier), type-checks every workspace, then runs every workspace's tests
# (unit + integration against the real PostgreSQL/Redis, real QEMU boots) and the Playwright e2e
# in Debian's Chromium. One task at a time: QEMU under TCG wants both cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
npx eslint --max-warnings=0 .
# one formatter over the tree (.prettierrc.json, .prettierignore): `npm run format` fixes it
npx prettier --check . > /dev/null || { npx prettier --list-different .; echo "formatting differs from Prettier's in the files above: run npm run format" >&2; exit 1; }
npx turbo run typecheck --continue --output-logs=errors-only
npx turbo run test --concurrency=1 --continue --output-logs=full
