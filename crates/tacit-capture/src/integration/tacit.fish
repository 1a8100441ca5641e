# tacit shell integration for fish, loaded with `fish --init-command`, after
# the user's own config.fish has run.

set -g __tacit_nonce '@NONCE@'

function tacit --description 'talk to the tacit recorder of this shell'
    '@TACIT_EXE@' $argv
end

function __tacit_preexec --on-event fish_preexec
    printf '\e]133;C;tacit=%s;cmd=%s;cwd=%s\a' $__tacit_nonce (string escape --style=url -- "$argv[1]") (string escape --style=url -- "$PWD")
end

function __tacit_postexec --on-event fish_postexec
    set -l ec $status
    printf '\e]133;D;tacit=%s;exit=%s\a' $__tacit_nonce $ec
end

function __tacit_prompt --on-event fish_prompt
    printf '\e]133;A;tacit=%s;cwd=%s\a' $__tacit_nonce (string escape --style=url -- "$PWD")
end
