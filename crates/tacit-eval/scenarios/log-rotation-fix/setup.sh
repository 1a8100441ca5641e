#!/usr/bin/env bash
# World for log-rotation-fix: a host whose orders-api service died when its
# access log filled the small /var/log volume. Log rotation stopped weeks ago
# because someone made the log folder world-writable (logrotate skips such
# folders). Fake systemctl and logrotate in DIR/bin keep their state under
# DIR (the unit's state in DIR/run/systemd, logrotate's in DIR/var/lib).
# Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
mkdir -p bin etc/systemd/system etc/logrotate.d run/systemd var/lib/logrotate var/log/orders-api opt/orders-api/bin

cat >etc/systemd/system/orders-api.service <<EOF
[Unit]
Description=Orders API
After=network-online.target

[Service]
User=orders
Group=orders
ExecStart=/opt/orders-api/bin/orders-api --config /etc/orders-api/config.yaml
Restart=no

[Install]
WantedBy=multi-user.target
EOF

cat >etc/logrotate.d/orders-api <<EOF
$dir/var/log/orders-api/*.log {
    weekly
    rotate 4
    missingok
    notifempty
    compress
    create 0640 orders adm
    sharedscripts
    postrotate
        systemctl kill -s HUP orders-api.service >/dev/null 2>&1 || true
    endscript
}
EOF

# The logs: rotation stopped five weeks ago, and the access log has filled
# the volume (the fakes count 40 MiB of live logs as a full /var/log).
logs=var/log/orders-api
line='10.0.4.17 - - [29/Nov/2026:21:47:59 +0000] "GET /api/orders/10422 HTTP/1.1" 200 512 "-" "okhttp/4.12.0"'
yes "$line" | head -c 45000000 >"$logs/access.log" || true
printf '%s\n' \
  'level=warn ts=2026-11-29T21:40:02Z msg="slow query" table=orders ms=812' \
  'level=error ts=2026-11-29T21:48:11Z msg="write access.log: no space left on device"' \
  'level=fatal ts=2026-11-29T21:48:12Z msg="cannot write access log, exiting"' >"$logs/error.log"
for n in 1 2; do
  printf '%s\n' "$line" | gzip -c >"$logs/access.log.$n.gz"
  printf 'level=info msg="rotated"\n' | gzip -c >"$logs/error.log.$n.gz"
done
chmod 0666 "$logs"/*
chmod 0777 "$logs"
last=$(date -d '36 days ago' '+%Y-%m-%d')
printf 'logrotate state -- version 2\n"%s" %s-0:0:0\n"%s" %s-0:0:0\n' \
  "$dir/$logs/access.log" "$last" "$dir/$logs/error.log" "$last" >var/lib/logrotate/status
chmod 0600 var/lib/logrotate/status

# The unit died 35 minutes ago.
printf 'state=failed\nsince=%s\npid=812\n' "$(( $(date +%s) - 2100 ))" >run/systemd/orders-api.state

# ---- systemctl ---------------------------------------------------------------
cat >bin/systemctl <<'FAKE'
#!/usr/bin/env bash
# A fake systemctl (systemd 252) for orders-api.service: status, is-active,
# start, stop, restart, reload, kill, daemon-reload. The service exits when
# it cannot write its access log, as the real one does on a full /var/log.
root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/var/log/orders-api"
host=app-03
cmd=""
units=()
for a in "$@"; do
  case "$a" in
    -s|--signal=*|--no-pager|-l|--full|-q|--quiet|--now) ;;
    HUP|SIGHUP|TERM|SIGTERM) ;;
    -*) echo "systemctl: unrecognized option '$a'" >&2; exit 1 ;;
    *) if [ -z "$cmd" ]; then cmd=$a; else units+=("$a"); fi ;;
  esac
done
unit=${units[0]:-}
case "$unit" in ""|*.*) ;; *) unit=$unit.service ;; esac
statef="$root/run/systemd/${unit%.service}.state"
if [ -n "$unit" ] && [ ! -f "$root/etc/systemd/system/$unit" ] && [ "$cmd" != daemon-reload ]; then
  case "$cmd" in
    status) echo "Unit $unit could not be found." >&2; exit 4 ;;
    is-active) echo inactive; exit 3 ;;
    *) echo "Failed to $cmd $unit: Unit $unit not found." >&2; exit 5 ;;
  esac
fi
state=inactive since=0 pid=0
[ -f "$statef" ] && . "$statef"
save() { printf 'state=%s\nsince=%s\npid=%s\n' "$state" "$since" "$pid" >"$statef"; }
journal() { echo "$(date -d "@$1" '+%b %d %H:%M:%S') $host $2" >>"$root/run/systemd/${unit%.service}.journal"; }
live_bytes() { find "$logs" -maxdepth 1 -name '*.log' -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
start() {
  local now
  now=$(date +%s)
  pid=$((2000 + RANDOM % 3000))
  if [ "$(live_bytes)" -gt $((40 * 1024 * 1024)) ]; then
    journal "$now" "systemd[1]: Started $unit - Orders API."
    journal "$now" "orders-api[$pid]: level=error msg=\"write $logs/access.log: no space left on device\""
    journal "$now" "orders-api[$pid]: level=fatal msg=\"cannot write access log, exiting\" path=$logs/access.log"
    journal "$now" "systemd[1]: $unit: Main process exited, code=exited, status=1/FAILURE"
    journal "$now" "systemd[1]: $unit: Failed with result 'exit-code'."
    state=failed since=$now
    save
    echo "Job for $unit failed because the control process exited with error code." >&2
    echo "See \"systemctl status $unit\" and \"journalctl -xeu $unit\" for details." >&2
    exit 1
  fi
  journal "$now" "systemd[1]: Started $unit - Orders API."
  journal "$now" "orders-api[$pid]: level=info msg=\"listening\" addr=:8080"
  journal "$now" "orders-api[$pid]: level=info msg=\"access log opened\" path=$logs/access.log"
  echo "10.0.4.9 - - [$(date '+%d/%b/%Y:%H:%M:%S %z')] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.30\"" >>"$logs/access.log" 2>/dev/null
  state=active since=$now
  save
}
ago() {
  local s=$(( $(date +%s) - $1 ))
  if [ $s -lt 60 ]; then echo "${s}s ago"; elif [ $s -lt 3600 ]; then echo "$((s / 60))min ago"; else echo "$((s / 3600))h $((s % 3600 / 60))min ago"; fi
}
case "$cmd" in
  status)
    [ -n "$unit" ] || { echo "systemctl status needs a unit in this fake" >&2; exit 1; }
    when="$(date -d "@$since" '+%a %Y-%m-%d %H:%M:%S %Z'); $(ago "$since")"
    loaded="     Loaded: loaded ($root/etc/systemd/system/$unit; enabled; preset: enabled)"
    case "$state" in
      active)
        echo "● $unit - Orders API"
        echo "$loaded"
        echo "     Active: active (running) since $when"
        echo "   Main PID: $pid (orders-api)"
        echo "      Tasks: 9 (limit: 4915)"
        echo "     Memory: 38.2M"
        echo "        CPU: 412ms"
        echo "     CGroup: /system.slice/$unit"
        echo "             └─$pid /opt/orders-api/bin/orders-api --config /etc/orders-api/config.yaml" ;;
      failed)
        echo "× $unit - Orders API"
        echo "$loaded"
        echo "     Active: failed (Result: exit-code) since $when"
        echo "    Process: $pid ExecStart=/opt/orders-api/bin/orders-api --config /etc/orders-api/config.yaml (code=exited, status=1/FAILURE)"
        echo "   Main PID: $pid (code=exited, status=1/FAILURE)"
        echo "        CPU: 2h 41min 12.337s" ;;
      *)
        echo "○ $unit - Orders API"
        echo "$loaded"
        echo "     Active: inactive (dead) since $when" ;;
    esac
    jf="$root/run/systemd/${unit%.service}.journal"
    if [ -f "$jf" ]; then echo; tail -n 10 "$jf"; fi
    [ "$state" = active ] && exit 0
    exit 3 ;;
  is-active)
    echo "$state"
    [ "$state" = active ] && exit 0
    exit 3 ;;
  start)
    [ "$state" = active ] && exit 0
    start ;;
  restart)
    if [ "$state" = active ]; then
      journal "$(date +%s)" "systemd[1]: Stopping $unit - Orders API..."
      journal "$(date +%s)" "systemd[1]: $unit: Deactivated successfully."
      journal "$(date +%s)" "systemd[1]: Stopped $unit - Orders API."
    fi
    start ;;
  stop)
    if [ "$state" = active ]; then
      journal "$(date +%s)" "systemd[1]: Stopping $unit - Orders API..."
      journal "$(date +%s)" "systemd[1]: Stopped $unit - Orders API."
      state=inactive since=$(date +%s)
      save
    fi ;;
  reload)
    echo "Failed to reload $unit: Job type reload is not applicable for unit $unit." >&2
    exit 1 ;;
  kill)
    if [ "$state" != active ]; then echo "Failed to kill unit $unit: No main process to kill" >&2; exit 1; fi
    journal "$(date +%s)" "orders-api[$pid]: level=info msg=\"SIGHUP: reopening access log\"" ;;
  daemon-reload) ;;
  "") echo "systemctl: this fake needs a command" >&2; exit 1 ;;
  *) echo "Unknown command verb '$cmd'." >&2; exit 1 ;;
esac
exit 0
FAKE

# Seed the journal with the crash.
since=$(sed -n 's/^since=//p' run/systemd/orders-api.state)
{
  echo "$(date -d "@$((since - 1))" '+%b %d %H:%M:%S') app-03 orders-api[812]: level=error msg=\"write $dir/$logs/access.log: no space left on device\""
  echo "$(date -d "@$since" '+%b %d %H:%M:%S') app-03 orders-api[812]: level=fatal msg=\"cannot write access log, exiting\" path=$dir/$logs/access.log"
  echo "$(date -d "@$since" '+%b %d %H:%M:%S') app-03 systemd[1]: orders-api.service: Main process exited, code=exited, status=1/FAILURE"
  echo "$(date -d "@$since" '+%b %d %H:%M:%S') app-03 systemd[1]: orders-api.service: Failed with result 'exit-code'."
  echo "$(date -d "@$since" '+%b %d %H:%M:%S') app-03 systemd[1]: orders-api.service: Consumed 2h 41min 12.337s CPU time."
} >run/systemd/orders-api.journal

# ---- logrotate -----------------------------------------------------------------
cat >bin/logrotate <<'FAKE'
#!/usr/bin/env bash
# A fake logrotate 3.21 for one config file: -d (debug: only print), -v, -f
# (force), -s STATE. It checks the parent folder's permissions, rotates,
# compresses and runs postrotate as the real one does, and prints its debug
# messages word for word.
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/var/lib/logrotate/status"
debug=0 verbose=0 force=0
configs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--debug) debug=1 verbose=1 ;;
    -v|--verbose) verbose=1 ;;
    -f|--force) force=1 ;;
    -s|--state) shift; state=${1:-} ;;
    --state=*) state=${1#*=} ;;
    -df|-fd) debug=1 verbose=1 force=1 ;;
    -vf|-fv) verbose=1 force=1 ;;
    --version) echo "logrotate 3.21.0"; exit 0 ;;
    -*) echo "logrotate: bad argument $1: unknown option" >&2; exit 1 ;;
    *) configs+=("$1") ;;
  esac
  shift
done
[ ${#configs[@]} -gt 0 ] || { echo "logrotate 3.21.0 - Copyright (C) 1995-2001 Red Hat, Inc." >&2; echo "Usage: logrotate [-dfv?] [-s|--state file] <configfile>" >&2; exit 1; }
say() { [ $verbose = 1 ] && echo "$@" >&2; true; }
err() { echo "error: $*" >&2; rc=1; }
rc=0
[ $debug = 1 ] && { echo "warning: logrotate in debug mode does nothing except printing debug messages!  Consider using verbose mode (-v) instead if this is not what you want." >&2; echo >&2; }

conf=${configs[0]}
if [ ! -f "$conf" ]; then echo "error: cannot stat $conf: No such file or directory" >&2; exit 1; fi
say "reading config file $conf"
pattern=$(awk '/\{/ { sub(/[ \t]*\{.*/, ""); print; exit }' "$conf")
freq=$(awk '$1 ~ /^(daily|weekly|monthly|yearly)$/ { print $1; exit }' "$conf")
count=$(awk '$1 == "rotate" { print $2; exit }' "$conf")
maxsize=$(awk '$1 == "maxsize" || $1 == "size" { print $2; exit }' "$conf")
create=$(awk '$1 == "create" { print $2; exit }' "$conf")
grep -qw compress "$conf" && compress=1 || compress=0
grep -qw notifempty "$conf" && notifempty=1 || notifempty=0
grep -qw missingok "$conf" && missingok=1 || missingok=0
script=$(awk '/^[ \t]*postrotate/ { on = 1; next } /^[ \t]*endscript/ { on = 0 } on' "$conf")
: "${freq:=weekly}" "${count:=0}"

say "Reading state from file: $state"
if [ ! -f "$state" ]; then say "state file $state does not exist"; fi
say "Allocating hash table for state file, size 64 entries"
declare -A last
if [ -f "$state" ]; then
  while read -r f d; do
    f=${f#\"}; f=${f%\"}
    [ -n "$d" ] && last[$f]=$d && say "Creating new state"
  done < <(tail -n +2 "$state")
fi
say ""
say "Handling 1 logs"
say ""
case "$freq" in
  daily) freqtext="after 1 days" ;;
  *) freqtext=$freq ;;
esac
say "rotating pattern: $pattern  $freqtext ($count rotations)"
if [ $notifempty = 1 ]; then say "empty log files are not rotated, old logs are removed"; else say "empty log files are rotated, old logs are removed"; fi

now=$(date +%s)
today=$(date '+%Y-%m-%d')
todo=()
shopt -s nullglob
files=($pattern)
if [ ${#files[@]} -eq 0 ] && [ $missingok = 0 ]; then err "stat of $pattern failed: No such file or directory"; fi
for f in "${files[@]}"; do
  say "considering log $f"
  parent=$(dirname "$f")
  perm=$(stat -c '%a' "$parent")
  pgid=$(stat -c '%g' "$parent")
  o=$(( 8#$perm & 2 )) g=$(( 8#$perm & 16 ))
  if [ $o -ne 0 ] || { [ $g -ne 0 ] && [ "$pgid" -ne 0 ]; }; then
    err "skipping \"$f\" because parent directory has insecure permissions (It's world writable or writable by group which is not \"root\") Set \"su\" directive in config file to tell logrotate which user/group should be used for rotation."
    continue
  fi
  if [ -z "${last[$f]:-}" ]; then
    say "Creating new state"
    last[$f]="$(date '+%Y-%m-%d-%H'):0:0"
  fi
  ld=${last[$f]}
  lday=${ld:0:10}
  lhour=$(echo "$ld" | cut -d- -f4 | cut -d: -f1)
  lts=$(date -d "$lday $lhour:00" +%s)
  say "  Now: $(date '+%Y-%m-%d %H:%M')"
  say "  Last rotated at $(date -d "@$lts" '+%Y-%m-%d %H:%M')"
  size=$(stat -c '%s' "$f")
  if [ $notifempty = 1 ] && [ "$size" -eq 0 ] && [ $force = 0 ]; then say "  log does not need rotating (log is empty)"; continue; fi
  need=0
  if [ $force = 1 ]; then need=1
  else
    case "$freq" in
      daily) [ "$lday" != "$today" ] && need=1 ;;
      weekly) [ $((now - lts)) -ge $((7 * 86400)) ] && need=1 ;;
      monthly) [ "${lday:0:7}" != "${today:0:7}" ] && need=1 ;;
      yearly) [ "${lday:0:4}" != "${today:0:4}" ] && need=1 ;;
    esac
    if [ $need = 0 ] && [ -n "$maxsize" ]; then
      m=$(numfmt --from=iec "${maxsize^^}" 2>/dev/null || echo 0)
      [ "$m" -gt 0 ] && [ "$size" -gt "$m" ] && need=1
    fi
  fi
  if [ $need = 1 ]; then say "  log needs rotating"; todo+=("$f")
  else say "  log does not need rotating (log has already been rotated)"; fi
done

ext=""; [ $compress = 1 ] && ext=.gz
for f in "${todo[@]}"; do
  say "rotating log $f, log->rotateCount is $count"
  say "dateext suffix '-$(date +%Y%m%d)'"
  say "glob pattern '-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'"
  for ((i = count; i >= 1; i--)); do
    say "renaming $f.$i$ext to $f.$((i + 1))$ext (rotatecount $count, logstart 1, i $i), "
    [ $debug = 0 ] && [ -f "$f.$i$ext" ] && mv "$f.$i$ext" "$f.$((i + 1))$ext"
  done
  if [ -f "$f.$((count + 1))$ext" ]; then
    say "removing old log $f.$((count + 1))$ext"
    [ $debug = 0 ] && rm -f "$f.$((count + 1))$ext"
  else
    say "log $f.$((count + 1))$ext doesn't exist -- won't try to dispose of it"
  fi
  say "renaming $f to $f.1"
  say "creating new $f mode = 0${create#0} uid = 998 gid = 4"
  if [ $debug = 0 ]; then
    mv "$f" "$f.1"
    : >"$f"
    [ -n "$create" ] && chmod "$create" "$f"
  fi
done
if [ ${#todo[@]} -gt 0 ] && [ -n "$script" ]; then
  say "running postrotate script"
  if [ $debug = 1 ]; then
    say "running script with args $pattern  : \""
    say "$script"
    say "\""
  else
    PATH="$root/bin:$PATH" sh -c "$script" logrotate_script "$pattern" || err "error running shared postrotate script for '$pattern '"
  fi
fi
for f in "${todo[@]}"; do
  if [ $compress = 1 ]; then
    say "compressing log with: /bin/gzip"
    [ $debug = 0 ] && gzip -f "$f.1"
  fi
  last[$f]="$(date '+%Y-%m-%d-%H:%M:%S' | sed 's/:0\([0-9]\)/:\1/g')"
done
if [ $debug = 0 ]; then
  { echo "logrotate state -- version 2"; for f in "${!last[@]}"; do echo "\"$f\" ${last[$f]}"; done | sort; } >"$state"
fi
exit $rc
FAKE
chmod +x bin/systemctl bin/logrotate
echo "scenario ready in $dir"
