#!/usr/bin/env bash
# Keeps the previous runs' logs before `make run` starts again: web.log -> web.log.1 -> ... -> web.log.5 (the
# oldest is dropped), for every *.log in the directory given (default var/log).
set -euo pipefail
dir="${1:-var/log}"
keep="${KEEP_LOGS:-5}"
shopt -s nullglob
for log in "$dir"/*.log; do
  for i in $(seq $((keep - 1)) -1 1); do
    if [ -f "$log.$i" ]; then mv -f "$log.$i" "$log.$((i + 1))"; fi
  done
  if [ -s "$log" ]; then mv -f "$log" "$log.1"; fi
done
