# tacit shell integration for fish, loaded with `fish --init-command`, after
# the user's own config.fish has run.

set -g __tacit_nonce '@NONCE@'

function tacit --description 'talk to the tacit recorder of this shell'
    '@TACIT_EXE@' $argv
end

# fish reports no exit status of its own for a job stopped with Ctrl-Z: a
# new stopped job after the command says it was, and it is reported as
# bash and zsh do (128 + SIGTSTP).
function __tacit_stopped_jobs
    jobs 2>/dev/null | string match -r -- '\bstopped\b' | count
end

function __tacit_preexec --on-event fish_preexec
    set -g __tacit_stopped_before (__tacit_stopped_jobs)
    printf '\e]133;C;tacit=%s;cmd=%s;cwd=%s\a' $__tacit_nonce (string escape --style=url -- "$argv[1]") (string escape --style=url -- "$PWD")
end

function __tacit_postexec --on-event fish_postexec
    set -l ec $status
    if test (__tacit_stopped_jobs) -gt "$__tacit_stopped_before"
        set ec 148
    end
    printf '\e]133;D;tacit=%s;exit=%s\a' $__tacit_nonce $ec
end

function __tacit_prompt --on-event fish_prompt
    printf '\e]133;A;tacit=%s;cwd=%s\a' $__tacit_nonce (string escape --style=url -- "$PWD")
end
