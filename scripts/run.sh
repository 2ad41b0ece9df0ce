#!/usr/bin/env bash
# Starts the whole portal on the embedded default (SQLite + file-system broker under var/): web on :8000,
# a Celery worker, beat, and the provider sandbox on :8100. Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var/log
bash scripts/rotate_logs.sh var/log  # keeps the previous runs' logs (web.log.1 ... web.log.5)

$PY manage.py migrate --noinput
$PY manage.py seed_demo --quiet
$PY manage.py ensure_periodic_tasks

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

$PY manage.py runserver 127.0.0.1:8000 --noreload > var/log/web.log 2>&1 & pids+=($!)
.venv/bin/celery -A shelfops worker -P threads -c 4 -l info > var/log/worker.log 2>&1 & pids+=($!)
.venv/bin/celery -A shelfops beat -l info -s var/celerybeat-schedule > var/log/beat.log 2>&1 & pids+=($!)
if $PY manage.py help runsandbox > /dev/null 2>&1; then
  $PY manage.py runsandbox --port 8100 > var/log/sandbox.log 2>&1 & pids+=($!)
fi

for _ in $(seq 1 60); do
  curl -fs http://127.0.0.1:8000/healthz > /dev/null 2>&1 && break
  sleep 0.5
done
echo
echo "ShelfOps portal:   http://127.0.0.1:8000/portal/   (admin: http://127.0.0.1:8000/admin/)"
echo "Provider sandbox:  http://127.0.0.1:8100/"
echo "Logs:              var/log/{web,worker,beat,sandbox}.log"
$PY manage.py seed_demo
echo "Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
