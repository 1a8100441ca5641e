#!/usr/bin/env bash
# A leaver ($user) with an identity account (iamctl, state in DIR/var/iam),
# API tokens, a PostgreSQL login role on the warehouse ($db on
# 127.0.0.1:5432) that owns a table and a view in reports and holds grants,
# and a home folder DIR/home/$user. The team owner role is ${db}_owner; the
# team's scratch database is ${db}_scratch.
#   scratch_objects=yes  the leaver also created a table in ${db}_scratch,
#                        so DROP ROLE from $db fails until it is cleaned there
#   prod_admin=yes       the leaver is in the prod-admins group
# On PostgreSQL it drops and recreates $db, ${db}_scratch, the role $user and
# ${db}_owner. Everything else lives under DIR.
# Usage: user=NAME db=NAME [scratch_objects=yes] [prod_admin=yes] setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${user:?the run variable user must be set}"
: "${db:?the run variable db must be set}"
scratch_objects=${scratch_objects:-no}
prod_admin=${prod_admin:-no}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/home" "$dir/archive" "$dir/var" "$dir/bin"
mkdir -p "$dir/bin" "$dir/var/iam" "$dir/home" "$dir/archive"
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres
sql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# --- PostgreSQL ---
dropdb --if-exists "$db"
dropdb --if-exists "${db}_scratch"
sql -d postgres -c "DROP ROLE IF EXISTS \"$user\"" -c "DROP ROLE IF EXISTS \"${db}_owner\""
sql -d postgres -c "CREATE ROLE \"${db}_owner\" NOLOGIN" -c "CREATE ROLE \"$user\" LOGIN"
createdb -O "${db}_owner" "$db"
createdb -O "${db}_owner" "${db}_scratch"
sql -d "$db" <<SQL
CREATE SCHEMA reports AUTHORIZATION ${db}_owner;
SET ROLE ${db}_owner;
CREATE TABLE reports.daily_sales (day date PRIMARY KEY, orders int NOT NULL, revenue_cents bigint NOT NULL);
INSERT INTO reports.daily_sales
  SELECT d::date, 100 + (extract(doy FROM d)::int * 7) % 60, 250000 + (extract(doy FROM d)::int * 7919) % 90000
  FROM generate_series('2025-08-01'::date, '2025-11-26'::date, '1 day') d;
CREATE TABLE reports.customers (id int PRIMARY KEY, signed_up date NOT NULL, churned date);
INSERT INTO reports.customers SELECT i, '2024-01-01'::date + i % 600, CASE WHEN i % 9 = 0 THEN '2025-06-01'::date + i % 150 END FROM generate_series(1, 2000) i;
RESET ROLE;
GRANT USAGE, CREATE ON SCHEMA reports TO $user;
GRANT SELECT ON ALL TABLES IN SCHEMA reports TO $user;
-- The leaver's own work, which the team still uses.
SET ROLE $user;
CREATE TABLE reports.churn_model (customer_id int PRIMARY KEY, score numeric(4,3) NOT NULL, scored_at date NOT NULL);
INSERT INTO reports.churn_model SELECT id, ((id * 37) % 1000) / 1000.0, '2025-11-20' FROM reports.customers;
CREATE VIEW reports.v_churn_weekly AS
  SELECT date_trunc('week', churned)::date AS week, count(*) AS churned FROM reports.customers WHERE churned IS NOT NULL GROUP BY 1;
RESET ROLE;
GRANT SELECT ON reports.churn_model, reports.v_churn_weekly TO ${db}_owner;
SQL
if [ "$scratch_objects" = yes ]; then
  sql -d "${db}_scratch" <<SQL
GRANT CREATE ON SCHEMA public TO $user;
SET ROLE $user;
CREATE TABLE public.${user}_export_q3 AS SELECT g AS customer_id, g % 5 AS segment FROM generate_series(1, 400) g;
RESET ROLE;
SQL
fi

# --- identity: users and tokens ---
groups="analytics,data-eng,vpn-users"
[ "$prod_admin" = yes ] && groups="analytics,data-eng,prod-admins,vpn-users"
{
  printf 'user\tname\tstatus\tgroups\tlast_seen\n'
  printf 'ops.admin\tOps Admin\tactive\tiam-admins,vpn-users\t2025-11-27T08:55:02Z\n'
  name=$(echo "$user" | awk '{ printf "%s. %s", toupper(substr($0, 1, 1)), toupper(substr($0, 2, 1)) substr($0, 3) }')
  printf '%s\t%s\tactive\t%s\t2025-11-26T17:42:10Z\n' "$user" "$name" "$groups"
  printf 'jlarsen\tJonas Larsen\tactive\tanalytics,vpn-users\t2025-11-27T08:31:44Z\n'
} >"$dir/var/iam/users.tsv"
{
  printf 'id\tuser\tlabel\tscope\tstatus\n'
  tok() { printf 'tok_%s' "$(printf '%s' "$user/$1" | sha1sum | cut -c1-8)"; }
  printf '%s\t%s\tlaptop-cli\twarehouse:read\tactive\n' "$(tok laptop-cli)" "$user"
  printf '%s\t%s\tgrafana\tmetrics:read\tactive\n' "$(tok grafana)" "$user"
  printf '%s\t%s\tairflow-dev\twarehouse:write\tactive\n' "$(tok airflow-dev)" "$user"
  printf 'tok_55d0b3aa\tjlarsen\tlaptop-cli\twarehouse:read\tactive\n'
} >"$dir/var/iam/tokens.tsv"
echo "ops.admin" >"$dir/var/iam/session"

# --- the leaver's home folder ---
h="$dir/home/$user"
mkdir -p "$h/notebooks" "$h/exports" "$h/.ssh"
printf 'export PGHOST=warehouse.corp.internal\nalias wh="psql -d %s"\n' "$db" >"$h/.bashrc"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG7sx3kq0Qv1Yh2l9cC4lzYb8lq3m0X2p6y8Qd9F0aB %s@laptop\n' "$user" >"$h/.ssh/authorized_keys"
for n in churn-model-v3 weekly-kpis cohort-retention; do
  printf '{"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}\n' >"$h/notebooks/$n.ipynb"
done
for m in 2025-08 2025-09 2025-10; do
  seq 1 300 | awk -v m="$m" '{ printf "%d,%s-%02d,%d\n", $1, m, 1 + $1 % 28, ($1 * 17) % 500 }' >"$h/exports/churn-$m.csv"
done
printf 'TODO hand over: churn model refresh runs from notebooks/churn-model-v3.ipynb every Monday\n' >"$h/HANDOVER.txt"

# --- iamctl: the identity provider's CLI ---
cat >"$dir/bin/iamctl" <<'SH'
#!/usr/bin/env bash
root=$(cd "$(dirname "$0")/.." && pwd)
users="$root/var/iam/users.tsv" tokens="$root/var/iam/tokens.tsv"
field() { awk -F'\t' -v u="$1" -v c="$2" 'NR > 1 && $1 == u { print $c }' "$users"; }
exists() { [ -n "$(field "$1" 1)" ] || { echo "iamctl: user \"$1\" not found" >&2; exit 4; }; }
help() {
  cat <<'TXT'
iamctl - manage identities on iam.corp.internal

Usage:
  iamctl whoami
  iamctl show-user USER
  iamctl disable-user USER --reason TEXT
  iamctl enable-user USER
  iamctl list-tokens USER
  iamctl revoke-tokens USER (--all | --id TOKEN_ID)

Every change is written to the audit log with your identity and the reason.
TXT
}
cmd=${1:-}; shift || true
case "$cmd" in
"" | -h | --help | help) help ;;
whoami)
  echo "$(cat "$root/var/iam/session") (groups: $(field "$(cat "$root/var/iam/session")" 4)); session expires in 7h41m" ;;
show-user)
  u=${1:?usage: iamctl show-user USER}; exists "$u"
  n=$(awk -F'\t' -v u="$u" 'NR > 1 && $2 == u && $5 == "active"' "$tokens" | wc -l)
  labels=$(awk -F'\t' -v u="$u" 'NR > 1 && $2 == u && $5 == "active" { printf "%s%s", sep, $3; sep = ", " }' "$tokens")
  printf 'user:       %s\nname:       %s\nstatus:     %s\ngroups:     %s\ntokens:     %s active%s\nlast seen:  %s\n' \
    "$u" "$(field "$u" 2)" "$(field "$u" 3)" "$(field "$u" 4 | sed 's/,/, /g')" "$n" "${labels:+ ($labels)}" "$(field "$u" 5)" ;;
disable-user)
  u=${1:-}; shift || true
  [ -n "$u" ] && [ "${1:-}" = --reason ] && [ -n "${2:-}" ] || { echo "usage: iamctl disable-user USER --reason TEXT" >&2; exit 2; }
  exists "$u"
  if [ "$(field "$u" 3)" = disabled ]; then echo "user $u is already disabled"; exit 0; fi
  awk -F'\t' -v OFS='\t' -v u="$u" 'NR > 1 && $1 == u { $3 = "disabled" } { print }' "$users" >"$users.new" && mv "$users.new" "$users"
  echo "user $u disabled (reason: $2); 2 active sessions ended" ;;
list-tokens)
  u=${1:?usage: iamctl list-tokens USER}; exists "$u"
  printf '%-14s %-12s %-16s %s\n' ID LABEL SCOPE STATUS
  awk -F'\t' -v u="$u" 'NR > 1 && $2 == u { printf "%-14s %-12s %-16s %s\n", $1, $3, $4, $5 }' "$tokens" ;;
revoke-tokens)
  u=${1:-}; shift || true
  case "${1:-}" in
  --all) ids=$(awk -F'\t' -v u="$u" 'NR > 1 && $2 == u && $5 == "active" { print $1 }' "$tokens") ;;
  --id) ids=${2:?usage: iamctl revoke-tokens USER --id TOKEN_ID} ;;
  *) echo "usage: iamctl revoke-tokens USER (--all | --id TOKEN_ID)" >&2; exit 2 ;;
  esac
  exists "$u"
  if [ -z "$ids" ]; then echo "no active tokens for $u"; exit 0; fi
  for id in $ids; do
    awk -F'\t' -v OFS='\t' -v id="$id" 'NR > 1 && $1 == id { $5 = "revoked" } { print }' "$tokens" >"$tokens.new" && mv "$tokens.new" "$tokens"
    echo "revoked $id ($(awk -F'\t' -v id="$id" '$1 == id { print $3 ", " $4 }' "$tokens"))"
  done ;;
*) echo "iamctl: unknown command \"$cmd\"; see iamctl --help" >&2; exit 2 ;;
esac
SH

# --- offboard-check: is the leaver gone everywhere? ---
cat >"$dir/bin/offboard-check" <<'SH'
#!/usr/bin/env bash
set -uo pipefail
u=${1:?usage: offboard-check USER}
root=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
bad=0
line() { printf '  %-22s %s\n' "$1" "$2"; }
st=$(awk -F'\t' -v u="$u" 'NR > 1 && $1 == u { print $3 }' "$root/var/iam/users.tsv")
if [ "$st" = disabled ]; then line identity "disabled"; else line identity "${st:-missing} (want disabled)"; bad=1; fi
n=$(awk -F'\t' -v u="$u" 'NR > 1 && $2 == u && $5 == "active"' "$root/var/iam/tokens.tsv" | wc -l)
if [ "$n" -eq 0 ]; then line tokens "none active"; else line tokens "$n still active"; bad=1; fi
r=$(psql -X -tAc "SELECT count(*) FROM pg_roles WHERE rolname = '$u'" -d postgres 2>/dev/null)
if [ "$r" = 0 ]; then line "warehouse role" "dropped"; else line "warehouse role" "still exists"; bad=1; fi
a="$root/archive/$u-home.tar.gz"
if [ -s "$a" ] && tar -tzf "$a" >/dev/null 2>&1; then line "home archive" "archive/$u-home.tar.gz ($(tar -tzf "$a" | wc -l) entries)"; else line "home archive" "MISSING"; bad=1; fi
if [ -e "$root/home/$u" ]; then line "home folder" "still there"; bad=1; else line "home folder" "removed"; fi
if [ "$bad" = 0 ]; then echo "offboard-check: $u is fully offboarded"; else echo "offboard-check: $u is NOT fully offboarded" >&2; exit 1; fi
SH
chmod +x "$dir/bin/iamctl" "$dir/bin/offboard-check"
echo "scenario ready in $dir (leaver $user, scratch objects: $scratch_objects, prod admin: $prod_admin)"
