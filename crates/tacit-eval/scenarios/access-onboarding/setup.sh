#!/usr/bin/env bash
# Onboarding a new analyst: a fake `iamctl` (the company's identity tool) in
# DIR/bin with its state under DIR/state/iam, and the warehouse database $db
# on the local PostgreSQL (schemas reports and staging). Drops the role $user
# so the run starts before the person has any access. The run's passwords
# are not used here: only the operator types them.
# Usage: user=LOGIN db=NAME setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${user:?the run variable user must be set}"
: "${db:?the run variable db must be set}"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin" "$dir/state/iam/users"
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres

dropdb --if-exists "$db"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP ROLE IF EXISTS $user"
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE SCHEMA reports;
CREATE TABLE reports.daily_sales (
    day           date PRIMARY KEY,
    orders        integer NOT NULL,
    revenue_cents bigint NOT NULL
);
INSERT INTO reports.daily_sales
SELECT date '2026-08-01' + g, 300 + (g * 37) % 120, 2500000 + (g * 7919) % 900000
FROM generate_series(0, 89) g;
CREATE TABLE reports.store_targets (
    store   text PRIMARY KEY,
    monthly_target_cents bigint NOT NULL
);
INSERT INTO reports.store_targets VALUES
    ('Berlin Mitte', 21000000), ('Hamburg Hafen', 18000000), ('Online', 54000000);

-- Raw data: not for analysts.
CREATE SCHEMA staging;
CREATE TABLE staging.raw_events (
    id       bigint PRIMARY KEY,
    payload  jsonb NOT NULL
);
SQL

# Identity state: the operator's session, the groups, existing users.
printf 'ops-admin@corp.example\niam-admin\n' >"$dir/state/iam/session"
printf '%s\n' analytics-admins analytics-readers eng-oncall finance-readers >"$dir/state/iam/groups"
echo 10482 >"$dir/state/iam/next_uid"
for u in mlopez jsmith; do
  mkdir -p "$dir/state/iam/users/$u"
  echo analytics >"$dir/state/iam/users/$u/team"
  echo analytics-readers >"$dir/state/iam/users/$u/groups"
done
echo 10311 >"$dir/state/iam/users/mlopez/uid"
echo 10407 >"$dir/state/iam/users/jsmith/uid"

cat >"$dir/bin/iamctl" <<'SH'
#!/usr/bin/env bash
# iamctl: the identity tool (users, groups, passwords, API tokens).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
iam="$root/state/iam"
die() { echo "iamctl: $1" >&2; exit "${2:-1}"; }
usage() {
  cat <<USAGE
usage: iamctl COMMAND [ARGS]

commands:
  whoami                                       who this session acts as
  create-user USER --team TEAM                 create a user
  get-user USER                                show a user
  add-to-group USER GROUP                      add a user to a group
  set-password USER --password PW [--temporary]
  issue-token USER --scope SCOPE [--ttl 90d]   issue an API token (shown once)
USAGE
}
need_user() {
  [ -n "${1:-}" ] || { usage >&2; exit 2; }
  [ -d "$iam/users/$1" ] || die "user \"$1\" not found"
}
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  whoami)
    { read -r who; read -r roles; } <"$iam/session"
    echo "$who"
    echo "roles: $roles"
    ;;
  create-user)
    name=${1:-}; team=
    [ $# -gt 0 ] && shift
    while [ $# -gt 0 ]; do
      case $1 in
        --team) team=${2:-}; shift 2 || die "--team needs a value" 2 ;;
        *) die "unknown flag: $1" 2 ;;
      esac
    done
    [ -n "$name" ] && [ -n "$team" ] || { usage >&2; exit 2; }
    [[ $name =~ ^[a-z][a-z0-9]{1,31}$ ]] || die "invalid user name \"$name\": lower-case letters and digits, starting with a letter" 2
    [ -d "$iam/users/$name" ] && die "user \"$name\" already exists"
    uid=$(cat "$iam/next_uid")
    mkdir -p "$iam/users/$name"
    echo "$uid" >"$iam/users/$name/uid"
    echo "$team" >"$iam/users/$name/team"
    : >"$iam/users/$name/groups"
    echo $((uid + 1)) >"$iam/next_uid"
    echo "created user $name (uid $uid, team $team)"
    ;;
  get-user)
    need_user "${1:-}"
    u="$iam/users/$1"
    echo "user:     $1 (uid $(cat "$u/uid"), team $(cat "$u/team"))"
    echo "groups:   $(paste -sd, "$u/groups" | sed 's/,/, /g')"
    if [ -f "$u/password.sha256" ]; then
      if [ -f "$u/password.temporary" ]; then echo "password: set (temporary)"; else echo "password: set"; fi
    else
      echo "password: not set"
    fi
    echo "tokens:   $( [ -f "$u/tokens" ] && wc -l <"$u/tokens" || echo 0)"
    ;;
  add-to-group)
    need_user "${1:-}"
    group=${2:-}
    [ -n "$group" ] || { usage >&2; exit 2; }
    if ! grep -qx -- "$group" "$iam/groups"; then
      echo "iamctl: group \"$group\" not found" >&2
      echo "known groups: $(paste -sd, "$iam/groups" | sed 's/,/, /g')" >&2
      exit 1
    fi
    if grep -qx -- "$group" "$iam/users/$1/groups"; then
      echo "$1 is already in $group"
    else
      echo "$group" >>"$iam/users/$1/groups"
      echo "added $1 to $group"
    fi
    ;;
  set-password)
    need_user "${1:-}"
    name=$1; shift
    pw= temporary=no
    while [ $# -gt 0 ]; do
      case $1 in
        --password) pw=${2:-}; shift 2 || die "--password needs a value" 2 ;;
        --temporary) temporary=yes; shift ;;
        *) die "unknown flag: $1" 2 ;;
      esac
    done
    [ -n "$pw" ] || die "--password is required" 2
    if [ ${#pw} -lt 12 ] || ! [[ $pw =~ [A-Z] && $pw =~ [a-z] && $pw =~ [0-9] ]]; then
      die "password rejected: it needs at least 12 characters, with upper case, lower case and digits"
    fi
    printf '%s' "$pw" | sha256sum | cut -d' ' -f1 >"$iam/users/$name/password.sha256"
    if [ "$temporary" = yes ]; then
      : >"$iam/users/$name/password.temporary"
      echo "password set for $name (temporary: must be changed at first sign-in)"
    else
      rm -f "$iam/users/$name/password.temporary"
      echo "password set for $name"
    fi
    ;;
  issue-token)
    need_user "${1:-}"
    name=$1; shift
    scope= ttl=30d
    while [ $# -gt 0 ]; do
      case $1 in
        --scope) scope=${2:-}; shift 2 || die "--scope needs a value" 2 ;;
        --ttl) ttl=${2:-}; shift 2 || die "--ttl needs a value" 2 ;;
        *) die "unknown flag: $1" 2 ;;
      esac
    done
    [ -n "$scope" ] || die "--scope is required" 2
    [[ $ttl =~ ^([0-9]+)d$ ]] || die "invalid --ttl \"$ttl\" (use days, e.g. 90d)" 2
    days=${BASH_REMATCH[1]}
    [ -f "$iam/users/$name/password.sha256" ] || die "user \"$name\" has no password yet; set one first"
    n=$(( $( [ -f "$iam/users/$name/tokens" ] && wc -l <"$iam/users/$name/tokens" || echo 0) + 1 ))
    hex=$(printf '%s:%s:%s:%s' "$name" "$scope" "$n" "$(cat "$iam/users/$name/uid")" | sha512sum | cut -c1-72)
    abc=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789
    token=ghp_
    for ((i = 0; i < 36; i++)); do
      token+=${abc:$(( 16#${hex:i*2:2} % 62 )):1}
    done
    printf '%s %s %s\n' "$scope" "$days" "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >>"$iam/users/$name/tokens"
    echo "issued token for $name (scope $scope, expires in $days days):"
    echo "$token"
    echo "It is shown only once: hand it over through the password manager."
    ;;
  -h|--help|help) usage ;;
  "") usage >&2; exit 2 ;;
  *) echo "iamctl: unknown command \"$cmd\"" >&2; usage >&2; exit 2 ;;
esac
SH
chmod +x "$dir/bin/iamctl"
echo "scenario ready in $dir (user $user, database $db)"
