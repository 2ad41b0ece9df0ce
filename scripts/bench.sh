#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints its figures and writes bench/results/<name>.json).
# Benchmarks that need PostgreSQL/Redis use DATABASE_URL/REDIS_URL, defaulting to the local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shelfops_bench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/9}"
mkdir -p bench/results
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
