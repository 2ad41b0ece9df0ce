# Sourced by scripts/run.sh (needs a `pids` array in the caller).
# supervise NAME LOG CMD...: runs CMD in the background and starts it again whenever it exits (a worker that lost
# its broker, a crashed sandbox), saying so on the console and in the log, instead of stopping everything. Restarts
# back off from 1 s to 30 s while the process keeps dying young, so a broken set-up does not spin.
supervise() {
  local name=$1 log=$2; shift 2
  (
    child=0
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
    delay=1
    while true; do
      started=$(date +%s)
      "$@" >> "$log" 2>&1 &
      child=$!
      status=0
      wait "$child" || status=$?
      if (( $(date +%s) - started > 60 )); then delay=1; fi
      msg="$(date -u +%FT%TZ) run.sh: $name exited with status $status; restarting in ${delay}s"
      echo "$msg"; echo "$msg" >> "$log"
      sleep "$delay"
      delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
    done
  ) &
  pids+=($!)
}
