#!/usr/bin/env bash
# The reference-client suite (graphql-http audit, graphql-ws scenarios) against the real
# binary. Needs `cargo build` first (or KABAADWALA_BIN). SQLite by default; with
# NODE_TEST_DATABASE_URL=postgres://… (an admin URL) each test file gets a fresh PostgreSQL
# database; REDIS_URL is passed to the server when set.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error
exec node --test --test-timeout=300000 tests/node/*.test.js
