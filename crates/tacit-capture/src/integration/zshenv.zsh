# tacit shell integration for zsh. zsh is started with ZDOTDIR pointing at
# tacit's private folder, so this file runs first. It puts ZDOTDIR back, so
# zsh then reads the user's own .zshrc (and .zprofile, .zlogin) as usual.

if [[ -n "${__TACIT_USER_ZDOTDIR-}" ]]; then
  ZDOTDIR=$__TACIT_USER_ZDOTDIR
else
  unset ZDOTDIR
fi
unset __TACIT_USER_ZDOTDIR
if [[ -r "${ZDOTDIR:-$HOME}/.zshenv" ]]; then
  builtin source "${ZDOTDIR:-$HOME}/.zshenv"
fi

typeset -g __tacit_nonce='@NONCE@'

tacit() { '@TACIT_EXE@' "$@" }

__tacit_enc() {
  local v=${1//\%/%25}
  v=${v//;/%3B}
  v=${v//$'\e'/%1B}
  v=${v//$'\a'/%07}
  v=${v//$'\n'/%0A}
  v=${v//$'\r'/%0D}
  REPLY=$v
}

__tacit_preexec() {
  __tacit_enc "$1"
  local cmd=$REPLY
  __tacit_enc "$PWD"
  builtin printf '\e]133;C;tacit=%s;cmd=%s;cwd=%s\a' "$__tacit_nonce" "$cmd" "$REPLY"
}

__tacit_precmd() {
  local ec=$?
  builtin printf '\e]133;D;tacit=%s;exit=%s\a' "$__tacit_nonce" "$ec"
  __tacit_enc "$PWD"
  builtin printf '\e]133;A;tacit=%s;cwd=%s\a' "$__tacit_nonce" "$REPLY"
  return $ec
}

# First in line, so $? is the command's own status.
typeset -ga precmd_functions preexec_functions
precmd_functions=(__tacit_precmd ${precmd_functions[@]})
preexec_functions=(__tacit_preexec ${preexec_functions[@]})
