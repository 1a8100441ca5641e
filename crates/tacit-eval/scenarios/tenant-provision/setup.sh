#!/usr/bin/env bash
# Tenant provisioning: connection settings (env.sh), the tenant schema
# (schema/tenant.sql), the tenant registry (registry/tenants.tsv, 16 tenants
# so far) and the team's scripts in DIR/bin. On PostgreSQL it drops the
# database tenant_$tenant and the role ${tenant}_app, and, when
# preexisting_role=yes, leaves that role behind as an aborted attempt would.
# Usage: tenant=NAME [preexisting_role=yes] setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${tenant:?the run variable tenant must be set}"
preexisting_role=${preexisting_role:-no}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin" "$dir/schema" "$dir/registry"
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres

dropdb --if-exists "tenant_$tenant"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP ROLE IF EXISTS ${tenant}_app"
if [ "$preexisting_role" = yes ]; then
  # Left over from a provisioning attempt that stopped after CREATE ROLE.
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE ${tenant}_app LOGIN"
fi

cat >"$dir/env.sh" <<'SH'
# Connection settings for the tenant cluster. Source it: . env.sh
export PGHOST=127.0.0.1
export PGPORT=5432
export PGUSER=postgres
SH

cat >"$dir/schema/tenant.sql" <<'SQL'
-- Schema of one tenant database. Load into an empty tenant_<name> database.
CREATE SCHEMA app;

CREATE TABLE app.users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    full_name  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app.projects (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    owner_id   bigint NOT NULL REFERENCES app.users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app.invoices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES app.projects (id),
    amount_cents integer NOT NULL CHECK (amount_cents >= 0),
    issued_on   date NOT NULL,
    paid        boolean NOT NULL DEFAULT false
);

CREATE INDEX invoices_project_id_idx ON app.invoices (project_id);
SQL

# The registry: one line per tenant, ids 1..16 taken.
{
  printf 'id\ttenant\tdatabase\trole\tregistered_at\n'
  i=0
  for t in umbrella wayne stark tyrell cyberdyne soylent hooli vandelay \
           oscorp wonka gringotts aperture duff monarch nakatomi sirius; do
    i=$((i + 1))
    printf '%d\t%s\t%s\t%s\t2025-%02d-14T09:30:00Z\n' "$i" "$t" "tenant_$t" "${t}_app" $(( (i % 12) + 1 ))
  done
} >"$dir/registry/tenants.tsv"

cat >"$dir/bin/register-tenant" <<'SH'
#!/usr/bin/env bash
# register-tenant TENANT: adds a provisioned tenant to registry/tenants.tsv.
# Refuses when the database or its login role is missing, or when the tenant
# is already registered.
set -euo pipefail
name=${1:?usage: register-tenant TENANT}
root=$(cd "$(dirname "$0")/.." && pwd)
reg="$root/registry/tenants.tsv"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
if awk -F'\t' -v n="$name" 'NR > 1 && $2 == n {found = 1} END {exit !found}' "$reg"; then
  echo "register-tenant: tenant $name is already registered" >&2
  exit 1
fi
if ! psql -X -tAc "SELECT 1" -d "tenant_$name" >/dev/null 2>&1; then
  echo "register-tenant: database tenant_$name does not exist; create it first" >&2
  exit 1
fi
login=$(psql -X -tAc "SELECT count(*) FROM pg_roles WHERE rolname = '${name}_app' AND rolcanlogin" -d "tenant_$name")
if [ "$login" != 1 ]; then
  echo "register-tenant: login role ${name}_app does not exist" >&2
  exit 1
fi
id=$(( $(awk -F'\t' 'NR > 1 && $1 + 0 > max {max = $1 + 0} END {print max + 0}' "$reg") + 1 ))
printf '%d\t%s\t%s\t%s\t%s\n' "$id" "$name" "tenant_$name" "${name}_app" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$reg"
echo "registered tenant $name (id $id)"
SH

cat >"$dir/bin/tenant-check" <<'SH'
#!/usr/bin/env bash
# tenant-check TENANT: is the tenant fully provisioned? Database with the app
# schema, a login role with read-write on every app table, a registry entry.
set -uo pipefail
name=${1:?usage: tenant-check TENANT}
root=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
db="tenant_$name" role="${name}_app" bad=0
q() { psql -X -tAc "$1" -d "$db" 2>/dev/null; }
line() { printf '  %-28s %s\n' "$1" "$2"; }
echo "tenant $name"
tables=$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")
if [ -z "$tables" ]; then
  line "database $db" "MISSING"; bad=1
elif [ "$tables" -eq 0 ]; then
  line "database $db" "FAILED (schema app not loaded)"; bad=1
else
  line "database $db" "ok ($tables tables in schema app)"
fi
if [ "$(q "SELECT count(*) FROM pg_roles WHERE rolname = '$role' AND rolcanlogin")" != 1 ]; then
  line "role $role" "MISSING"; bad=1
else
  rw=$(q "SELECT count(*) FILTER (WHERE has_schema_privilege('$role', n.oid, 'USAGE')
                 AND has_table_privilege('$role', c.oid, 'SELECT')
                 AND has_table_privilege('$role', c.oid, 'INSERT')
                 AND has_table_privilege('$role', c.oid, 'UPDATE')
                 AND has_table_privilege('$role', c.oid, 'DELETE'))
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'app' AND c.relkind = 'r'")
  if [ -n "$tables" ] && [ "${rw:-0}" = "$tables" ] && [ "$tables" -gt 0 ]; then
    line "role $role" "ok (login, read-write on $rw/$tables tables)"
  else
    line "role $role" "FAILED (read-write on ${rw:-0}/${tables:-0} tables)"; bad=1
  fi
fi
id=$(awk -F'\t' -v n="$name" 'NR > 1 && $2 == n {print $1}' "$root/registry/tenants.tsv")
if [ -n "$id" ]; then line "registry" "ok (id $id)"; else line "registry" "MISSING"; bad=1; fi
if [ "$bad" = 0 ]; then echo "tenant $name is ready"; else echo "tenant $name is NOT ready" >&2; exit 1; fi
SH
chmod +x "$dir"/bin/*
echo "scenario ready in $dir (tenant $tenant, leftover role: $preexisting_role)"
