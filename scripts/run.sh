#!/usr/bin/env bash
# Starts the whole portal on the embedded default (SQLite + file-system broker under var/): web on :8000,
# one Celery worker per queue, beat, and the provider sandbox on :8100, each restarted when it exits.
# Ctrl-C stops all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# Ports can be moved (WEB_PORT, SANDBOX_PORT) when 8000/8100 are taken; SANDBOX_URL must then follow SANDBOX_PORT.
WEB_PORT=${WEB_PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8100}
mkdir -p var/log
bash scripts/rotate_logs.sh var/log  # keeps the previous runs' logs (web.log.1 ... web.log.5)

$PY manage.py migrate --noinput
$PY manage.py seed_demo --quiet
$PY manage.py ensure_periodic_tasks

pids=()
source scripts/supervise.sh
cleanup() {
  echo; echo "Stopping..."
  stop_supervised
}
trap cleanup INT TERM HUP EXIT

: > var/log/web.log; : > var/log/beat.log; : > var/log/sandbox.log
supervise web var/log/web.log $PY manage.py runserver "127.0.0.1:$WEB_PORT" --noreload
# One worker per queue (settings.SHELFOPS_QUEUES), so a burst of long syncs never holds webhook processing's slots.
# Thread pools, as the fault suite (tests/faults) runs them: they survive a broker loss with the issue 16 settings.
for queue in webhooks syncs maintenance; do
  : > "var/log/worker-$queue.log"
  supervise "worker-$queue" "var/log/worker-$queue.log" \
    .venv/bin/celery -A shelfops worker -P threads -Q "$queue" -n "$queue@%h" -c 2 -l info
done
supervise beat var/log/beat.log .venv/bin/celery -A shelfops beat -l info -s var/celerybeat-schedule
if $PY manage.py help runsandbox > /dev/null 2>&1; then
  supervise sandbox var/log/sandbox.log $PY manage.py runsandbox --port "$SANDBOX_PORT"
fi

for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$WEB_PORT/healthz" > /dev/null 2>&1 && break
  sleep 0.5
done
echo
echo "ShelfOps portal:   http://127.0.0.1:$WEB_PORT/portal/   (admin: http://127.0.0.1:$WEB_PORT/admin/)"
echo "Provider sandbox:  http://127.0.0.1:$SANDBOX_PORT/"
echo "Logs:              var/log/{web,worker-webhooks,worker-syncs,worker-maintenance,beat,sandbox}.log"
$PY manage.py seed_demo
echo "Press Ctrl-C to stop. A process that exits is restarted (see the messages here and in its log)."
wait
