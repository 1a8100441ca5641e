#!/usr/bin/env bash
# Restore drill on a shop database: the database $db on the local PostgreSQL
# (customers, products, orders) and the team's nightly dump script in
# DIR/bin. Dumps go to DIR/dumps. Usage: db=NAME setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${db:?the run variable db must be set}"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin" "$dir/dumps"
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres

dropdb --if-exists "$db"
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE TABLE customers (
    id         integer PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    country    text NOT NULL,
    created_at timestamp NOT NULL
);
INSERT INTO customers
SELECT g, 'customer' || g || '@example.com',
       (ARRAY['DE', 'FR', 'NL', 'US', 'GB'])[1 + g % 5],
       timestamp '2025-01-01' + g * interval '19 hours'
FROM generate_series(1, 300) g;

CREATE TABLE products (
    sku         text PRIMARY KEY,
    title       text NOT NULL,
    price_cents integer NOT NULL
);
INSERT INTO products
SELECT 'SKU-' || lpad(g::text, 4, '0'), 'Product ' || g, 499 + (g * 733) % 9000
FROM generate_series(1, 40) g;

-- Written by the nightly import, read by reporting: no keys of its own.
CREATE TABLE orders (
    id          bigint NOT NULL,
    customer_id integer NOT NULL,
    sku         text NOT NULL,
    quantity    integer NOT NULL,
    total_cents integer NOT NULL,
    status      text NOT NULL,
    placed_at   timestamp NOT NULL
);
INSERT INTO orders
SELECT g, 1 + (g * 7) % 300, 'SKU-' || lpad((1 + g % 40)::text, 4, '0'),
       1 + g % 3, (1 + g % 3) * (499 + ((1 + g % 40) * 733) % 9000),
       (ARRAY['paid', 'shipped', 'delivered', 'refunded'])[1 + g % 4],
       timestamp '2026-10-01 08:00' + g * interval '37 minutes'
FROM generate_series(1, 1200) g;
SQL

cat >"$dir/bin/nightly-dump" <<'SH'
#!/usr/bin/env bash
# nightly-dump DATABASE: what the nightly backup job runs. Writes a
# custom-format dump to dumps/DATABASE.dump (replacing the previous one) and
# prints its SHA-256 for the backup log.
set -euo pipefail
db=${1:?usage: nightly-dump DATABASE}
root=$(cd "$(dirname "$0")/.." && pwd)
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
out="$root/dumps/$db.dump"
if ! tables=$(psql -X -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'" -d "$db" 2>/dev/null); then
  echo "nightly-dump: cannot connect to database \"$db\"" >&2
  exit 2
fi
orders=$(psql -X -tAc "SELECT count(*) FROM orders" -d "$db" 2>/dev/null || echo "missing")
echo "nightly-dump: dumping $db ($tables tables, orders: $orders rows)"
pg_dump -Fc -Z 6 -f "$out.partial" "$db"
mv "$out.partial" "$out"
size=$(du -k "$out" | cut -f1)
echo "dump written: dumps/$db.dump (${size} KB)"
echo "sha256: $(sha256sum "$out" | cut -d' ' -f1)"
SH
chmod +x "$dir/bin/nightly-dump"
echo "scenario ready in $dir (database $db)"
