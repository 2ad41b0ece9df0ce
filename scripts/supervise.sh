# Sourced by scripts/run.sh (needs a `pids` array in the caller; `trap stop_supervised INT TERM HUP EXIT` there).
# supervise NAME LOG CMD...: runs CMD in the background and starts it again whenever it exits (a worker that lost
# its broker, a crashed sandbox), saying so on the console and in the log, instead of stopping everything. Restarts
# back off from 1 s to 30 s while the process keeps dying young, so a broken set-up does not spin.
supervise() {
  local name=$1 log=$2; shift 2
  (
    child=0
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT HUP
    delay=1
    while true; do
      started=$(date +%s)
      # In a session of its own: Ctrl-C and a closed terminal reach this loop (which stops the process with TERM and
      # waits for it), never the process directly. A Celery worker given SIGHUP re-executes itself; with the loop
      # gone (a closed terminal) it lived on as an orphan holding its queue.
      setsid "$@" >> "$log" 2>&1 &
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

# Stop every supervised process: TERM to each loop, which stops its process with TERM and waits for it. Installed
# by the caller for INT (Ctrl-C), TERM and HUP (a closed terminal), so no process outlives `make run`.
stop_supervised() {
  trap - INT TERM HUP EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
