#!/usr/bin/env bash
# An "ingest" service whose spool volume is 98% full. Its writer has stalled,
# and the worker the last server forked is orphaned, still holding :7070, so
# the first restart fails until the orphan is killed.
#
# DIR/bin/svcctl  a small service manager (status, restart, ps, logs, kill-orphans)
# DIR/bin/df      reports the spool volume (16 MiB) from what is on it; every
#                 other path goes to the real df
# DIR/var/spool/ingest/{incoming,done,failed}  the spool: real files
# DIR/run, DIR/var/log, DIR/etc                the service's state
# Nothing leaves DIR; no network. Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
spool="$dir/var/spool/ingest"
mkdir -p "$dir/bin" "$dir/etc" "$dir/run" "$dir/var/log" "$spool/incoming" "$spool/done" "$spool/failed"

cat >"$dir/etc/ingest.conf" <<EOF
# ingest: receives events on :7070 and spools them until the indexer acknowledges them
listen = :7070
spool = $spool
spool_capacity_kb = 16384
stall_at_percent = 95
EOF

# Segments: 512 KiB each. done/ is acknowledged by the indexer, incoming/ is
# not yet read, failed/ was rejected and waits for a person.
seg() { head -c "$2" /dev/urandom >"$1"; }
n=1000
for day in 10 11 12 13 14 15 16 17 18; do
  mkdir -p "$spool/done/2025-11-$day"
  for _ in 1 2; do n=$((n + 1)); seg "$spool/done/2025-11-$day/seg-00$n.log" 524288; done
done
n=$((n + 1)); seg "$spool/done/2025-11-18/seg-00$n.log" 262144
for _ in $(seq 1 13); do n=$((n + 1)); seg "$spool/incoming/seg-00$n.log" 524288; done
seg "$spool/failed/seg-000977.log" 65536

echo degraded >"$dir/run/ingest.state"
echo 47902 >"$dir/run/ingest.pid"
echo 48211 >"$dir/run/ingest-worker.pid"   # the orphan: its parent is gone
cat >"$dir/var/log/ingest.log" <<'EOF'
2025-11-19T02:58:41Z ingest[47902]: spool at 93% (15237/16384 KiB)
2025-11-19T03:05:12Z ingest[47902]: spool at 95% (15565/16384 KiB): writer throttled
2025-11-19T03:12:07Z ingest[48211]: write segment seg-001034.log: no space left on device
2025-11-19T03:12:07Z ingest[48211]: writer stalled; 4118 events queued in memory
2025-11-19T03:12:09Z ingest[47902]: worker 48211 not responding to health ping
2025-11-19T03:14:09Z ingest[47902]: fatal: worker pool unhealthy, exiting
EOF

cat >"$dir/bin/svcctl" <<'SH'
#!/usr/bin/env bash
# svcctl: the service manager for ingest. State lives under the install root.
root=$(cd "$(dirname "$0")/.." && pwd)
conf="$root/etc/ingest.conf"
get() { awk -F' = ' -v k="$1" '$1 == k { print $2 }' "$conf"; }
spool=$(get spool) cap=$(get spool_capacity_kb) stall=$(get stall_at_percent) listen=$(get listen)
state_f="$root/run/ingest.state" pid_f="$root/run/ingest.pid" orphan_f="$root/run/ingest-worker.pid"
log="$root/var/log/ingest.log"
used_kb() { find "$spool" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", (s + 1023) / 1024 }'; }
pct() { echo $(($(used_kb) * 100 / cap)); }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
usage() { echo "usage: svcctl {status|restart|start|stop|ps|logs|kill-orphans [--force]} SERVICE" >&2; exit 2; }
force=0
args=()
for a in "$@"; do
  case "$a" in
  --force | -f) force=1 ;;
  *) args+=("$a") ;;
  esac
done
cmd=${args[0]:-} svc=${args[1]:-}
[ -n "$cmd" ] && [ -n "$svc" ] || usage
[ "$svc" = ingest ] || { echo "svcctl: unit $svc not found" >&2; exit 4; }
state=$(cat "$state_f")
case "$cmd" in
status)
  p=$(pct)
  if [ "$p" -ge "$stall" ]; then
    echo "ingest: degraded — disk $spool $p% full"
    echo "  writer: stalled since 03:12 (no space left on device)"
    echo "  queue:  4118 events waiting"
    exit 3
  fi
  case "$state" in
  running) echo "ingest: ok, disk $p% full" ;;
  degraded) echo "ingest: degraded — writer stalled since 03:12, restart required (disk $p% full)"; exit 3 ;;
  *) echo "ingest: $state — not running (disk $p% full)"; exit 3 ;;
  esac
  ;;
stop)
  echo -n "Stopping ingest ... "; sleep 0.2; echo ok
  echo stopped >"$state_f"; rm -f "$pid_f"
  ;;
start | restart)
  if [ "$cmd" = restart ]; then echo -n "Stopping ingest ... "; sleep 0.2; echo ok; rm -f "$pid_f"; fi
  echo -n "Starting ingest ... "; sleep 0.3
  newpid=$(cat "$root/run/next-pid" 2>/dev/null || echo 52114)
  echo $((newpid + 17)) >"$root/run/next-pid"
  if [ "$(pct)" -ge "$stall" ]; then
    echo failed
    echo "ingest[$newpid]: open spool segment: no space left on device"
    echo "$(now) ingest[$newpid]: open spool segment: no space left on device" >>"$log"
    echo "Job for ingest failed; see 'svcctl logs ingest'."
    echo failed >"$state_f"; exit 1
  fi
  if [ -f "$orphan_f" ]; then
    echo failed
    echo "ingest[$newpid]: listen tcp $listen: bind: address already in use"
    echo "$(now) ingest[$newpid]: listen tcp $listen: bind: address already in use" >>"$log"
    echo "Job for ingest failed; see 'svcctl logs ingest'."
    echo failed >"$state_f"; exit 1
  fi
  echo "ok (pid $newpid, listening on $listen)"
  echo "$(now) ingest[$newpid]: listening on $listen, spool $spool ($(pct)% full)" >>"$log"
  echo running >"$state_f"; echo "$newpid" >"$pid_f"
  ;;
ps)
  printf '%-9s %-6s %-8s %s\n' UNIT PID STATE COMMAND
  if [ -f "$pid_f" ]; then main=$(cat "$pid_f"); else main=-; fi
  printf '%-9s %-6s %-8s %s\n' ingest "$main" "$state" "ingest-server --listen $listen --spool $spool"
  if [ -f "$orphan_f" ]; then
    printf '%-9s %-6s %-8s %s\n' "(orphan)" "$(cat "$orphan_f")" running "ingest-worker --listen-fd 3   [holds $listen, not in unit]"
  fi
  ;;
logs)
  tail -n 20 "$log"
  ;;
kill-orphans)
  if [ ! -f "$orphan_f" ]; then echo "no orphaned processes for ingest"; exit 0; fi
  opid=$(cat "$orphan_f")
  if [ "$force" -eq 0 ]; then
    echo "sent SIGTERM to orphan ingest-worker (pid $opid)"
    sleep 0.5
    echo "ingest-worker (pid $opid) did not exit within 10s; use --force to send SIGKILL" >&2
    exit 1
  fi
  echo "sent SIGKILL to orphan ingest-worker (pid $opid)"
  rm -f "$orphan_f"
  echo "$(now) svcctl: killed orphan ingest-worker $opid (SIGKILL)" >>"$log"
  echo "$listen is free"
  ;;
*) usage ;;
esac
SH

cat >"$dir/bin/df" <<'SH'
#!/usr/bin/env bash
# df, with the ingest spool volume (a 16 MiB volume in this world) reported
# from what is on it. Any other path is the real df's business.
root=$(cd "$(dirname "$0")/.." && pwd)
spool=$(awk -F' = ' '$1 == "spool" { print $2 }' "$root/etc/ingest.conf")
cap=$(awk -F' = ' '$1 == "spool_capacity_kb" { print $2 }' "$root/etc/ingest.conf")
human=0 paths=() opts=()
for a in "$@"; do
  case "$a" in
  -h | --human-readable) human=1; opts+=("$a") ;;
  -*) opts+=("$a") ;;
  *) paths+=("$a") ;;
  esac
done
ours=0 others=()
for p in "${paths[@]}"; do
  real=$(realpath -m "$p")
  case "$real" in
  "$spool" | "$spool"/*) ours=1 ;;
  *) others+=("$p") ;;
  esac
done
if [ ${#paths[@]} -gt 0 ] && [ "$ours" -eq 0 ]; then exec /usr/bin/df "$@"; fi
used=$(find "$spool" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", (s + 1023) / 1024 }')
avail=$((cap - used)); [ "$avail" -lt 0 ] && avail=0
pct=$((used * 100 / cap))
h() { awk -v k="$1" 'BEGIN { if (k >= 1024) { v = k / 1024; printf (v < 10 ? "%.1fM" : "%.0fM"), v } else printf "%dK", k }'; }
if [ "$human" -eq 1 ]; then
  printf '%-22s %5s %5s %5s %4s %s\n' Filesystem Size Used Avail Use% "Mounted on"
  printf '%-22s %5s %5s %5s %4s %s\n' /dev/mapper/vg0-spool "$(h "$cap")" "$(h "$used")" "$(h "$avail")" "$pct%" "$spool"
else
  printf '%-22s %10s %9s %9s %4s %s\n' Filesystem 1K-blocks Used Available Use% "Mounted on"
  printf '%-22s %10s %9s %9s %4s %s\n' /dev/mapper/vg0-spool "$cap" "$used" "$avail" "$pct%" "$spool"
fi
if [ ${#others[@]} -gt 0 ]; then /usr/bin/df "${opts[@]}" "${others[@]}" | tail -n +2; fi
SH
chmod +x "$dir/bin/svcctl" "$dir/bin/df"
echo "scenario ready in $dir"
