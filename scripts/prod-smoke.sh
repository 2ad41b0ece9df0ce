#!/usr/bin/env bash
# Production smoke test: the docker-compose topology built from Debian's packages (Docker cannot pull images on
# these machines), everything with SHELFOPS_ENV=production:
#   nginx (TLS, self-signed certificate, deploy/nginx/shelfops.conf.template) -> gunicorn (3 workers)
#   Celery worker -Q webhooks, Celery worker -Q syncs,maintenance, beat; PostgreSQL (own database), Redis (own DB)
# then checks through https:// (scripts/prod_smoke.py): logins in chromium, API next links, a signed webhook
# processed by a worker, /readyz, /metrics and its token, HSTS and Secure cookies; and that a process started
# without FERNET_KEYS refuses to start. Stops everything it started, whatever happens.
#
# Ports (SMOKE_PORT_BASE, default 22740): +1 gunicorn, +3 nginx https, +4 nginx http, +5 the refusal probe.
# PostgreSQL: SMOKE_PG (default postgres://postgres@127.0.0.1:5432), database SMOKE_DB (shelfops_smoke, recreated).
# Redis: SMOKE_REDIS (default redis://127.0.0.1:6379/13, flushed: it is the smoke's own DB number).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
BIN="$ROOT/.venv/bin"
log() { printf '[smoke] %s\n' "$*"; }
fail() { printf '[smoke] FAIL %s\n' "$*"; exit 1; }

PORT_BASE=${SMOKE_PORT_BASE:-22740}
WEB_PORT=$((PORT_BASE + 1)); HTTPS_PORT=$((PORT_BASE + 3)); HTTP_PORT=$((PORT_BASE + 4))
PROBE_PORT=$((PORT_BASE + 5))
PG=${SMOKE_PG:-postgres://postgres@127.0.0.1:5432}
DB=${SMOKE_DB:-shelfops_smoke}
REDIS=${SMOKE_REDIS:-redis://127.0.0.1:6379/13}
started=$(date +%s)

# --- tools -----------------------------------------------------------------------------------------------------
make -s install
if ! command -v nginx > /dev/null && [ ! -x /usr/sbin/nginx ]; then
  log "installing nginx"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx > /dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v openssl > /dev/null || fail "openssl is needed for the self-signed certificate"

WORK=$(mktemp -d /tmp/shelfops-smoke.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/log" "$WORK/var" "$WORK/nginx"
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2> /dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    log "logs of the failed run (last lines):"
    for f in "$WORK"/log/*.log; do echo "--- $(basename "$f")"; tail -n 25 "$f"; done
  fi
  dropdb --force --if-exists "${PG_ARGS[@]}" "$DB" 2> /dev/null || true
  rm -rf "$WORK"
  log "stopped everything ($(( $(date +%s) - started )) s)"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# --- the environment every process gets (what .env holds in docker-compose) -------------------------------------
read -r PG_USER PG_HOST PG_PORT < <("$PY" -c "
from urllib.parse import urlsplit; u = urlsplit('$PG'); print(u.username or 'postgres', u.hostname, u.port or 5432)")
PG_ARGS=(-h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER")
dropdb --force --if-exists "${PG_ARGS[@]}" "$DB"
createdb "${PG_ARGS[@]}" "$DB"
redis-cli -u "$REDIS" flushdb > /dev/null

newkey() { "$PY" -c "import secrets; print(secrets.token_urlsafe($1))"; }
fernet() { "$PY" -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"; }
export SHELFOPS_ENV=production
export SECRET_KEY; SECRET_KEY=$(newkey 50)
export FERNET_KEYS; FERNET_KEYS="$(fernet),$(fernet)"
export BASE_URL="https://localhost:$HTTPS_PORT"
export ALLOWED_HOSTS=localhost
export DATABASE_URL="$PG/$DB"
export REDIS_URL="$REDIS"
export METRICS_TOKEN; METRICS_TOKEN=$(newkey 32)
export VAR_DIR="$WORK/var"
# One provider configured with (made-up, non-sandbox) credentials; the others left out (not offered).
export SQUARE_ENVIRONMENT=production SHOPIFY_ENVIRONMENT=production NETSUITE_ENVIRONMENT=production \
  SHIPBOB_ENVIRONMENT=production
export SQUARE_CLIENT_ID="sq0idp-smoke-$(newkey 8)" SQUARE_CLIENT_SECRET="sq0csp-smoke-$(newkey 16)"
export SQUARE_WEBHOOK_SIGNATURE_KEY; SQUARE_WEBHOOK_SIGNATURE_KEY=$(newkey 24)
unset CELERY_BROKER_URL DEBUG SHOPIFY_CLIENT_ID SHOPIFY_CLIENT_SECRET NETSUITE_CLIENT_ID NETSUITE_CLIENT_SECRET \
  SHIPBOB_CLIENT_ID SHIPBOB_CLIENT_SECRET
export PYTHONUNBUFFERED=1

# --- a process that lacks FERNET_KEYS must refuse to start ------------------------------------------------------
log "gunicorn without FERNET_KEYS must refuse to start"
set +e
env -u FERNET_KEYS timeout 60 "$BIN/gunicorn" shelfops.wsgi:application --bind "127.0.0.1:$PROBE_PORT" \
  --workers 1 > "$WORK/log/refusal.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "gunicorn started (exit $rc) without FERNET_KEYS"
grep -q "FERNET_KEYS: not set" "$WORK/log/refusal.log" || fail "the refusal does not name FERNET_KEYS"
log "  ok    exit $rc: $(grep -m1 'FERNET_KEYS: not set' "$WORK/log/refusal.log" | cut -c1-110)..."
set +e
env -u FERNET_KEYS timeout 60 "$BIN/celery" -A shelfops worker -Q webhooks > "$WORK/log/refusal-worker.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "FERNET_KEYS: not set" "$WORK/log/refusal-worker.log" \
  || fail "a Celery worker without FERNET_KEYS did not refuse (exit $rc)"
log "  ok    the Celery worker refuses too (exit $rc)"

# --- deploy ---------------------------------------------------------------------------------------------------
log "migrate, periodic tasks, demo logins (production settings, database $DB, Redis $REDIS)"
"$PY" manage.py check --deploy --fail-level WARNING
"$PY" manage.py migrate --noinput > "$WORK/log/migrate.log"
"$PY" manage.py ensure_periodic_tasks > /dev/null
"$PY" manage.py seed_demo --quiet
"$PY" scripts/prod_smoke.py prepare

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost" -keyout "$WORK/nginx/tls.key" -out "$WORK/nginx/tls.crt" 2> /dev/null
SHELFOPS_UPSTREAM="127.0.0.1:$WEB_PORT" NGINX_HTTP_PORT="127.0.0.1:$HTTP_PORT" \
  NGINX_HTTPS_PORT="127.0.0.1:$HTTPS_PORT" TLS_CERTIFICATE="$WORK/nginx/tls.crt" \
  TLS_CERTIFICATE_KEY="$WORK/nginx/tls.key" \
  envsubst '${SHELFOPS_UPSTREAM} ${BASE_URL} ${NGINX_HTTP_PORT} ${NGINX_HTTPS_PORT} ${TLS_CERTIFICATE} ${TLS_CERTIFICATE_KEY}' \
  < deploy/nginx/shelfops.conf.template > "$WORK/nginx/shelfops.conf"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/log/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log $WORK/log/nginx-access.log;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  include $WORK/nginx/shelfops.conf;
}
EOF
"$NGINX" -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2> "$WORK/log/nginx-test.log" \
  || { cat "$WORK/log/nginx-test.log"; fail "nginx rejected the configuration"; }

log "starting nginx :$HTTPS_PORT (https) :$HTTP_PORT (http), gunicorn :$WEB_PORT (3 workers), the webhooks and syncs workers, beat"
setsid "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off;" > "$WORK/log/nginx.log" 2>&1 &
pids+=($!)
setsid "$BIN/gunicorn" shelfops.wsgi:application --bind "127.0.0.1:$WEB_PORT" --workers 3 \
  --access-logfile "$WORK/log/gunicorn-access.log" > "$WORK/log/gunicorn.log" 2>&1 &
pids+=($!)
setsid "$BIN/celery" -A shelfops worker -Q webhooks -n "webhooks@%h" -c 2 -l info \
  > "$WORK/log/worker-webhooks.log" 2>&1 &
pids+=($!)
# "celery" (the default queue) too, so a task without a route is never stranded.
setsid "$BIN/celery" -A shelfops worker -Q syncs,maintenance,celery -n "syncs@%h" -c 2 -l info \
  > "$WORK/log/worker-syncs.log" 2>&1 &
pids+=($!)
setsid "$BIN/celery" -A shelfops beat -l info --pidfile="$WORK/beat.pid" -s "$WORK/beat-schedule" \
  > "$WORK/log/beat.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fsS --max-time 2 "http://127.0.0.1:$WEB_PORT/healthz" > /dev/null 2>&1 && break
  sleep 0.5
done
for name in webhooks syncs; do
  for _ in $(seq 1 120); do grep -q "ready\." "$WORK/log/worker-$name.log" && break; sleep 0.5; done
  grep -q "ready\." "$WORK/log/worker-$name.log" || fail "worker $name did not become ready"
done
for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null || fail "a process exited early (pid $pid)"; done

log "checks through $BASE_URL"
SMOKE_CA="$WORK/nginx/tls.crt" SMOKE_HTTP_URL="http://localhost:$HTTP_PORT" \
  SMOKE_WEB_URL="http://127.0.0.1:$WEB_PORT" "$PY" scripts/prod_smoke.py check

# An interval task first falls due one interval after beat starts (the dispatcher's is 30 s).
for _ in $(seq 1 180); do grep -q "Sending due task" "$WORK/log/beat.log" && break; sleep 0.5; done
grep -q "Sending due task" "$WORK/log/beat.log" || fail "beat sent no periodic task within 90 s"
log "  ok    beat sends its periodic tasks ($(grep -c 'Sending due task' "$WORK/log/beat.log") so far)"
"$PY" manage.py beat_health --max-age 120 | sed 's/^/[smoke]   ok    beat_health (compose health check): /'
# The dispatcher processes a last small claim itself (issue 18), so either task may be the one that did it.
grep -Eq "Task integrations\.webhooks\.(process_[a-z]+|dispatch_received_events)\[[^]]*\] succeeded" \
  "$WORK"/log/worker-*.log \
  || fail "no worker log shows the webhook task succeeding"
where=$(grep -lE "integrations\.webhooks\.(process_[a-z]+|dispatch_received_events)\[[^]]*\] succeeded" \
  "$WORK"/log/worker-*.log \
  | xargs -n1 basename | tr '\n' ' ')
# Once webhook tasks are routed to their own queue (the queues work), they must run on the webhooks worker.
queue=$("$PY" -c "from shelfops.celery import app
print(app.amqp.router.route({}, 'integrations.webhooks.process_event')['queue'].name)")
if [ "$queue" = webhooks ]; then
  grep -Eq "integrations\.webhooks\.(process_[a-z]+|dispatch_received_events)\[[^]]*\] succeeded" \
    "$WORK/log/worker-webhooks.log" \
    || fail "webhook tasks are routed to 'webhooks' but ran on: $where"
fi
log "  ok    webhook task routed to queue '$queue', ran on: $where"
for pid in "${pids[@]}"; do kill -0 "$pid" 2> /dev/null || fail "a process died during the checks (pid $pid)"; done
log "all checks passed"
