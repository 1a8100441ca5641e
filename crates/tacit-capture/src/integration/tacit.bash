# tacit shell integration for bash, loaded with `bash --rcfile`.
# It loads the user's own rc files first, then adds tacit's marks. It never
# edits the user's files, and every hook is written so that a failure inside
# it cannot break the shell.

if [ -r /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi
if [ -r "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi

__tacit_nonce='@NONCE@'

# In-session commands reach the recorder of this very shell.
tacit() { '@TACIT_EXE@' "$@"; }

# The command line is read from history (`history 1` below), so history
# must be on while recording. The user's own choice is kept: with history
# off in their rc file, nothing reaches their history file (HISTFILE is
# emptied) and each entry is deleted again once read.
__tacit_hist_off=0
[[ -o history ]] || __tacit_hist_off=1
# Commands typed with a leading space are kept out of history by
# `ignorespace`, which would hide them from `history 1` below. Turn it off
# and emulate it: such a command is removed from history once it finished.
__tacit_ignorespace=0
case ":${HISTCONTROL-}:" in
  *:ignorespace:*|*:ignoreboth:*) __tacit_ignorespace=1 ;;
esac
HISTCONTROL=${HISTCONTROL//ignoreboth/ignoredups}
HISTCONTROL=${HISTCONTROL//ignorespace/}

__tacit_enc() {
  __tacit_v=${1//\%/%25}
  __tacit_v=${__tacit_v//;/%3B}
  __tacit_v=${__tacit_v//$'\e'/%1B}
  __tacit_v=${__tacit_v//$'\a'/%07}
  __tacit_v=${__tacit_v//$'\n'/%0A}
  __tacit_v=${__tacit_v//$'\r'/%0D}
}

# Runs inside PS0's command substitution, right before the command runs.
__tacit_preexec() {
  # This runs in a command substitution, which bash waits for like any
  # other: a Ctrl-Z landing here must not stop it and hang the prompt.
  trap '' TSTP TTIN TTOU
  local line
  line=$(HISTTIMEFORMAT= builtin history 1 2>/dev/null)
  # Strip the history number: "  42  cmd" -> "cmd".
  line=${line#"${line%%[![:space:]]*}"}
  line=${line#*[[:space:]][[:space:]]}
  __tacit_enc "$line"
  local cmd=$__tacit_v
  __tacit_enc "$PWD"
  builtin printf '\e]133;C;tacit=%s;cmd=%s;cwd=%s\a' "$__tacit_nonce" "$cmd" "$__tacit_v"
}

__tacit_precmd() {
  local __tacit_ec=$?
  builtin printf '\e]133;D;tacit=%s;exit=%s\a' "$__tacit_nonce" "$__tacit_ec"
  if [ "$__tacit_hist_off" = 1 ]; then
    builtin history -c 2>/dev/null
  elif [ "$__tacit_ignorespace" = 1 ]; then
    local last
    last=$(HISTTIMEFORMAT= builtin history 1 2>/dev/null)
    last=${last#"${last%%[![:space:]]*}"}
    last=${last#*[[:space:]][[:space:]]}
    case "$last" in " "*) builtin history -d -1 2>/dev/null ;; esac
  fi
  __tacit_enc "$PWD"
  builtin printf '\e]133;A;tacit=%s;cwd=%s\a' "$__tacit_nonce" "$__tacit_v"
  return $__tacit_ec
}

# Run first, so that $? is the command's status, and hand it on unchanged.
PROMPT_COMMAND=(__tacit_precmd "${PROMPT_COMMAND[@]}")
PS0='$(__tacit_preexec)'"${PS0-}"

if [ "$__tacit_hist_off" = 1 ]; then HISTFILE=; fi
# Last, so that no line of this file is read while history is on (bash adds
# the lines of an rc file it reads after `set -o history` to history).
set -o history 2>/dev/null
