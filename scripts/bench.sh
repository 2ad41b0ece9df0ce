#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its figures and writes bench/results/<name>.json).
# Benchmarks that need PostgreSQL/Redis use DATABASE_URL/REDIS_URL, defaulting to the local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shelfops_bench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/9}"
mkdir -p bench/results
# bench/webhooks.py drives the load with wrk (Debian's package) and falls back to a slower Python client without it.
if ! command -v wrk > /dev/null 2>&1 && command -v apt-get > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get install -y -qq wrk > /dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk > /dev/null; }) \
    || echo "wrk could not be installed; bench/webhooks.py will use its Python load generator"
fi
only="${BENCH:-}"
status=0
for f in bench/*.py; do
  name=$(basename "$f" .py)
  case "$name" in _*) continue ;; esac
  if [ -n "$only" ] && [ "$only" != "$name" ]; then continue; fi
  echo "== bench/$name"
  .venv/bin/python "$f" || { echo "bench/$name failed"; status=1; }
done
exit $status
