#!/usr/bin/env bash
# Output throughput and peak memory of `tacit record`, side by side with
# `script` (util-linux) and asciinema 3, on a large `cat`.
#
#   bench/throughput.sh
#
# Environment:
#   BENCH_MB=200        size of the generated text file (MiB)
#   BENCH_RSS_MB=1024   output (MiB) to pass through tacit for the RSS figure
#   BENCH_RUNS=3        timed runs per tool (the median is reported)
#   BENCH_BUILD=1       build target/release/tacit first (0: use it as is)
#   BENCH_WRITE=1       write the results into BENCHMARKS.md (0: print only)
#   BENCH_TIMEOUT=600   seconds before a hung session is killed (and reported)
#   TACIT_BIN, ASCIINEMA_BIN, SCRIPT_BIN   override the binaries
#   TMPDIR              where the text file and the isolated HOME go
#
# Every tool runs an interactive-shell-shaped session whose stdin is a FIFO
# that stays open until the tool exits (like a terminal would): the input is
# "cat FILE" then "exit". Keeping stdin open matters: util-linux `script`
# stalls ~2 s when its stdin hits EOF early (it waits, 8 x 250 ms, for the
# child to read the input), which would not be a throughput figure.
# asciinema 3 has no TTY here, so it runs with --headless, which does not
# forward stdin: it runs `cat FILE` as its command (through bash -c), writes
# the asciicast to a temp file and prints nothing. It thus does less work than
# the others (no pass-through to stdout); its figure is an upper bound.
set -euo pipefail

BENCH_MB=${BENCH_MB:-200}
BENCH_RSS_MB=${BENCH_RSS_MB:-1024}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_BUILD=${BENCH_BUILD:-1}
BENCH_WRITE=${BENCH_WRITE:-1}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-600}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TACIT=${TACIT_BIN:-$ROOT/target/release/tacit}
SCRIPT=${SCRIPT_BIN:-$(command -v script || true)}
ASCIINEMA=${ASCIINEMA_BIN:-$(command -v asciinema || true)}
if [[ -z $ASCIINEMA && -x $HOME/.cargo/bin/asciinema ]]; then
    ASCIINEMA=$HOME/.cargo/bin/asciinema
fi

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $BENCH_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_MB must be a positive integer"
[[ $BENCH_RSS_MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_RSS_MB must be a positive integer"
[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ $BENCH_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "BENCH_TIMEOUT must be a positive integer"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tacit-bench.XXXXXX")
SESSION_PID=""
cleanup() {
    # A session still running (the script was interrupted): stop it.
    if [[ -n $SESSION_PID ]] && kill -0 "$SESSION_PID" 2>/dev/null; then
        kill "$SESSION_PID" 2>/dev/null || true
        wait "$SESSION_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build (before HOME is replaced: rustup needs the real one) ----------
if [[ $BENCH_BUILD == 1 && -z ${TACIT_BIN:-} ]]; then
    log "building tacit (release)..."
    (cd "$ROOT" && nice -n 10 cargo build --release -p tacit-cli --quiet) \
        || die "cargo build --release -p tacit-cli failed"
fi
[[ -x $TACIT ]] || die "$TACIT not found: run cargo build --release -p tacit-cli"
[[ -n $SCRIPT ]] || die "script (util-linux) not found"

# Isolated environment: nothing of the user's is read or touched.
mkdir -p "$WORK/home" "$WORK/runtime"
chmod 700 "$WORK/runtime"
export HOME=$WORK/home
export XDG_RUNTIME_DIR=$WORK/runtime
export XDG_CONFIG_HOME=$WORK/home/.config
export XDG_DATA_HOME=$WORK/home/.local/share
export XDG_STATE_HOME=$WORK/home/.local/state
export TACIT_DB=$WORK/tacit.db
export TACIT_DATA_DIR=$WORK/data
export TERM=xterm-256color
unset TACIT_CONFIG TACIT_SOCKET TACIT_RUN_ID TACIT_RUN_NAME HISTFILE 2>/dev/null || true
export HISTFILE=/dev/null

ASCIINEMA_NOTE=""
if [[ -z $ASCIINEMA ]]; then
    ASCIINEMA_NOTE="asciinema not found (cargo install asciinema --locked): skipped"
    log "$ASCIINEMA_NOTE"
elif ! "$ASCIINEMA" --version 2>/dev/null | grep -q '^asciinema 3'; then
    ASCIINEMA_NOTE="$ASCIINEMA is not asciinema 3 ($("$ASCIINEMA" --version 2>&1 | head -1)): skipped"
    log "$ASCIINEMA_NOTE"
    ASCIINEMA=""
fi

# --- the text file ----------------------------------------------------------
# ~76-byte log-like lines: timestamp, level (every 7th coloured with SGR),
# words, decimal and hex numbers. Deterministic (fixed seed).
FILE=$WORK/big.txt
log "generating ${BENCH_MB} MiB of text..."
LC_ALL=C awk -v mb="$BENCH_MB" '
BEGIN {
  srand(42)
  n = split("build deploy server request handler cache update config module error warning info debug service network client response timeout retry connect database query index table user session token worker queue event stream", w, " ")
  split("32 31 33 34 36 35", col, " ")
  target = mb * 1048576; total = 0; i = 0
  while (total < target) {
    i++
    line = sprintf("%06d %02d:%02d:%02d.%03d", i, int(i/3600000)%24, int(i/60000)%60, int(i/1000)%60, i%1000)
    if (i % 7 == 0) line = line sprintf(" \033[%sm%-5s\033[0m", col[1 + i % 6], (i % 21 == 0) ? "WARN" : "INFO")
    else line = line " INFO "
    while (length(line) < 72) {
      r = rand()
      if (r < 0.7) line = line " " w[1 + int(rand() * n)]
      else if (r < 0.85) line = line " " int(rand() * 100000)
      else line = line sprintf(" 0x%x", int(rand() * 16777216))
    }
    line = line "\n"
    printf "%s", line
    total += length(line)
  }
}' >"$FILE"
FILE_BYTES=$(stat -c %s "$FILE")
cat "$FILE" >/dev/null # warm the page cache

now_ns() { date +%s%N; }

# run_session OUT_VAR INPUT CMD...: runs CMD with stdin a FIFO fed INPUT and
# held open until CMD exits; stdout to /dev/null, stderr to $WORK/last.err.
# Sets OUT_VAR to the wall time in seconds. CMD runs under `timeout`, whose
# pid is in $SESSION_PID while the optional hook "$SESSION_HOOK" runs.
SESSION_HOOK=""
run_session() {
    local __out=$1 input=$2
    shift 2
    local fifo=$WORK/stdin.fifo t0 t1 rc=0
    rm -f "$fifo"
    mkfifo "$fifo"
    t0=$(now_ns)
    timeout -k 5 "$BENCH_TIMEOUT" "$@" <"$fifo" >/dev/null 2>"$WORK/last.err" &
    SESSION_PID=$!
    exec 3>"$fifo"
    printf '%s' "$input" >&3
    if [[ -n $SESSION_HOOK ]]; then "$SESSION_HOOK"; fi
    wait "$SESSION_PID" || rc=$?
    t1=$(now_ns)
    exec 3>&-
    rm -f "$fifo"
    if ((rc == 124 || rc == 137)); then
        log "HUNG: no exit after ${BENCH_TIMEOUT}s, killed: $*"
        sed 's/^/  | /' "$WORK/last.err" >&2
        return 1
    elif ((rc != 0)); then
        log "command failed (exit $rc): $*"
        sed 's/^/  | /' "$WORK/last.err" >&2
        return 1
    fi
    printf -v "$__out" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
}

INPUT="cat $FILE"$'\n'"exit"$'\n'

run_tacit() {
    run_session "$1" "$INPUT" "$TACIT" record bench --shell bash --no-ask || return 1
    grep -q 'recorded "bench": 1 command' "$WORK/last.err" \
        || { log "tacit did not record the command:"; sed 's/^/  | /' "$WORK/last.err" >&2; return 1; }
}
run_script() {
    run_session "$1" "$INPUT" "$SCRIPT" -qfc "bash --norc --noprofile -i" /dev/null
}
run_asciinema() {
    run_session "$1" "" "$ASCIINEMA" rec --headless --quiet --overwrite \
        --command "bash --norc --noprofile -c 'cat $FILE'" "$WORK/rec.cast" || return 1
    rm -f "$WORK/rec.cast"
}
run_cat() {
    local t0 t1
    t0=$(now_ns)
    cat "$FILE" >/dev/null
    t1=$(now_ns)
    printf -v "$1" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
}

TOOLS=(cat script tacit)
[[ -n $ASCIINEMA ]] && TOOLS+=(asciinema)
declare -A TIMES=()

log "timing ${#TOOLS[@]} tools x $BENCH_RUNS runs on $FILE_BYTES bytes..."
for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Round-robin, so background load on a shared machine hits all tools alike.
    for tool in "${TOOLS[@]}"; do
        t=""
        "run_$tool" t || die "$tool failed"
        TIMES[$tool]+="$t "
        log "  run $run  $tool: ${t}s"
    done
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mbps() { awk -v b="$FILE_BYTES" -v t="$1" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; } # throughput a/b = time b/time a

declare -A MED=()
for tool in "${TOOLS[@]}"; do MED[$tool]=$(median "${TIMES[$tool]}"); done

# --- peak RSS of the recorder while BENCH_RSS_MB of output passes -----------
REPEAT=$(((BENCH_RSS_MB + BENCH_MB - 1) / BENCH_MB))
RSS_BYTES=$((FILE_BYTES * REPEAT))
CAT_ARGS=$(for ((i = 0; i < REPEAT; i++)); do printf ' %s' "$FILE"; done)
HWM_KB=0
# Follows the first-child chain from $SESSION_PID (timeout -> [time ->])
# down to the tacit process and samples its VmHWM until it exits.
sample_hwm() {
    local pid=$SESSION_PID comm kids v
    while kill -0 "$SESSION_PID" 2>/dev/null; do
        comm=$(cat /proc/"$pid"/comm 2>/dev/null || true)
        [[ $comm == tacit ]] && break
        kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
        if [[ -n $kids ]]; then pid=${kids%% *}; else sleep 0.01; fi
    done
    while v=$(awk '/^VmHWM:/ { print $2 }' /proc/"$pid"/status 2>/dev/null) && [[ -n $v ]]; do
        ((v > HWM_KB)) && HWM_KB=$v
        sleep 0.02
    done
    return 0
}
USE_TIME=0
[[ -x /usr/bin/time ]] && USE_TIME=1
log "peak RSS: tacit recording $RSS_BYTES bytes of output..."
RSS_INPUT="cat$CAT_ARGS"$'\n'"exit"$'\n'
SESSION_HOOK=sample_hwm
if [[ $USE_TIME == 1 ]]; then
    run_session RSS_WALL "$RSS_INPUT" /usr/bin/time -f 'MAXRSS %M' -o "$WORK/time.out" \
        "$TACIT" record bench --shell bash --no-ask || die "tacit failed in the RSS run"
    TIME_KB=$(awk '/^MAXRSS/ { print $2 }' "$WORK/time.out")
else
    run_session RSS_WALL "$RSS_INPUT" "$TACIT" record bench --shell bash --no-ask \
        || die "tacit failed in the RSS run"
    TIME_KB=""
fi
SESSION_HOOK=""
grep -q 'recorded "bench": 1 command' "$WORK/last.err" || die "tacit did not record the RSS command"
PEAK_KB=$HWM_KB
[[ -n $TIME_KB ]] && ((TIME_KB > PEAK_KB)) && PEAK_KB=$TIME_KB
PEAK_MB=$(awk -v k="$PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')

# --- report -----------------------------------------------------------------
FILE_MB=$(awk -v b="$FILE_BYTES" 'BEGIN { printf "%.0f", b / 1048576 }')
declare -A LABEL=(
    [cat]='`cat file > /dev/null` (baseline, no PTY)'
    [script]='`script -qfc "bash -i"` (util-linux)'
    [tacit]='`tacit record` (release)'
    [asciinema]='`asciinema rec --headless` (v3)'
)
TABLE="| tool | runs (s) | median (s) | MiB/s | tacit throughput vs this |
|---|---|---|---|---|"
for tool in "${TOOLS[@]}"; do
    vs="–"
    [[ $tool != tacit ]] && vs="$(ratio "${MED[tacit]}" "${MED[$tool]}")x"
    TABLE+=$'\n'"| ${LABEL[$tool]} | ${TIMES[$tool]% } | ${MED[$tool]} | $(mbps "${MED[$tool]}") | $vs |"
done

R_SCRIPT=$(ratio "${MED[tacit]}" "${MED[script]}")
T_SCRIPT=$(awk -v r="$R_SCRIPT" 'BEGIN { print (r >= 0.9) ? "met" : "NOT met" }')
if [[ -n $ASCIINEMA ]]; then
    R_ASC=$(ratio "${MED[tacit]}" "${MED[asciinema]}")
    T_ASC=$(awk -v r="$R_ASC" 'BEGIN { print (r > 1.0) ? "met" : "NOT met" }')
    ASC_LINE="- tacit ahead of asciinema: **$T_ASC** (${R_ASC}x)"
else
    ASC_LINE="- tacit ahead of asciinema: not measured ($ASCIINEMA_NOTE)"
fi
T_RSS=$(awk -v m="$PEAK_MB" 'BEGIN { print (m < 30) ? "met" : "NOT met" }')
RSS_HOW="VmHWM of the tacit process sampled every 20 ms: $(awk -v k="$HWM_KB" 'BEGIN { printf "%.1f", k / 1024 }') MB"
[[ -n $TIME_KB ]] && RSS_HOW+="; \`/usr/bin/time\` max RSS (tacit, or a child it reaped if larger): $(awk -v k="$TIME_KB" 'BEGIN { printf "%.1f", k / 1024 }') MB"

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
MACHINE="$(nproc) CPUs, Linux $(uname -r), $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown CPU)"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
VERSIONS="tacit $("$TACIT" --version 2>/dev/null | awk '{ print $NF }'), $("$SCRIPT" --version 2>&1 | head -1)"
[[ -n $ASCIINEMA ]] && VERSIONS+=", $("$ASCIINEMA" --version 2>&1 | head -1)"

REPORT="## Output throughput and memory

- date: $DATE
- machine: $MACHINE (load average at the start: $LOAD_START, at the end: $LOAD)
- versions: $VERSIONS
- reproduce: \`bench/throughput.sh\` (env: BENCH_MB=$BENCH_MB BENCH_RSS_MB=$BENCH_RSS_MB BENCH_RUNS=$BENCH_RUNS)

\`cat\` of a ${FILE_MB} MiB generated text file ($FILE_BYTES bytes, ~76-byte log lines, every 7th with an SGR colour),
$BENCH_RUNS runs per tool, round-robin; wall time from launch to exit, median reported.
\`tacit\` and \`script\` run an interactive bash in a PTY, fed \`cat FILE\` then \`exit\` on a stdin that stays
open, output to /dev/null. asciinema has no TTY here, so it runs \`--headless\`: it runs \`cat FILE\` as its
command and writes the asciicast file but does not pass output through (less work than the others).
MiB/s = file size / median time. \"tacit throughput vs this\" = this tool's median time / tacit's median time.

$TABLE

Peak RSS of \`tacit record\` while $RSS_BYTES bytes (${REPEAT} x the file, $(awk -v b="$RSS_BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB) pass: **${PEAK_MB} MB** (wall ${RSS_WALL}s).
($RSS_HOW.)

Targets:
- tacit >= 0.9x the throughput of script: **$T_SCRIPT** (${R_SCRIPT}x)
$ASC_LINE
- tacit peak RSS under 30 MB with ~1 GB of output: **$T_RSS** (${PEAK_MB} MB)
"

printf '%s\n' "$REPORT"

# BENCHMARKS.md: the section between the markers is replaced; anything
# else in the file (notes, other benchmarks) is kept.
if [[ $BENCH_WRITE == 1 ]]; then
    MD=$ROOT/BENCHMARKS.md
    BEGIN_MARK='<!-- bench/throughput.sh: begin (generated, do not edit) -->'
    END_MARK='<!-- bench/throughput.sh: end -->'
    SECTION="$BEGIN_MARK"$'\n'"$REPORT"$'\n'"$END_MARK"
    if [[ -f $MD ]] && grep -qF "$BEGIN_MARK" "$MD" && grep -qF "$END_MARK" "$MD"; then
        SECTION="$SECTION" awk -v b="$BEGIN_MARK" -v e="$END_MARK" '
            $0 == b { print ENVIRON["SECTION"]; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip { print }' "$MD" >"$WORK/md.new"
    else
        {
            printf '# Benchmarks\n\n'
            printf '%s\n' "$SECTION"
            [[ -f $MD ]] && { printf '\n'; cat "$MD"; }
        } >"$WORK/md.new"
    fi
    cat "$WORK/md.new" >"$MD"
    log "wrote $MD"
fi
