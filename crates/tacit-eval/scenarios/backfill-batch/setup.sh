#!/usr/bin/env bash
# Backfill of a rollup table: the database $db on the local PostgreSQL holds
# orders for October and November 2026 and the rollup daily_totals, loaded
# by the nightly rollup up to the day before the first of $days (the days it
# missed while it was broken). When $stale_day is set, the crashed rollup
# half-loaded that day (2 of 4 stores). DIR/bin/backfill rebuilds one day.
# Usage: db=NAME days="D1 D2 D3" [stale_day=D] setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${db:?the run variable db must be set}"
: "${days:?the run variable days must be set}"
stale_day=${stale_day:-}
first=${days%% *}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin"
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres

dropdb --if-exists "$db"
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v first="$first" -v stale="$stale_day" <<'SQL'
CREATE TABLE stores (
    id   integer PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO stores VALUES (1, 'Berlin Mitte'), (2, 'Hamburg Hafen'), (3, 'Munich Ost'), (4, 'Online');

CREATE TABLE orders (
    id           bigint PRIMARY KEY,
    store_id     integer NOT NULL REFERENCES stores (id),
    ordered_at   timestamp NOT NULL,
    amount_cents integer NOT NULL
);
INSERT INTO orders
SELECT g, 1 + (g * 7) % 4, timestamp '2026-10-01 00:05' + g * interval '17 minutes',
       899 + (g * 7919) % 15000
FROM generate_series(0, 5160) g;
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);

CREATE TABLE daily_totals (
    day           date NOT NULL,
    store_id      integer NOT NULL REFERENCES stores (id),
    orders        integer NOT NULL,
    revenue_cents bigint NOT NULL,
    loaded_by     text NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, store_id)
);

-- What the nightly rollup loaded before it broke.
INSERT INTO daily_totals (day, store_id, orders, revenue_cents, loaded_by, loaded_at)
SELECT ordered_at::date, store_id, count(*), sum(amount_cents), 'rollup-nightly',
       ordered_at::date + interval '1 day 02:10'
FROM orders
WHERE ordered_at < :'first'::date
GROUP BY 1, 2;

-- The night it crashed: two stores of four loaded, then killed.
INSERT INTO daily_totals (day, store_id, orders, revenue_cents, loaded_by, loaded_at)
SELECT ordered_at::date, store_id, count(*), sum(amount_cents), 'rollup-nightly',
       ordered_at::date + interval '1 day 02:13:07'
FROM orders
WHERE :'stale' <> '' AND ordered_at::date = NULLIF(:'stale', '')::date AND store_id IN (1, 2)
GROUP BY 1, 2;
SQL

cat >"$dir/bin/backfill" <<'SH'
#!/usr/bin/env bash
# backfill: rebuilds one day of a rollup table from orders.
set -uo pipefail
usage() {
  cat <<USAGE
usage: backfill --db DATABASE --date YYYY-MM-DD --table TABLE [--dry-run | --verify]

Rebuilds one day of a rollup table from the orders table.
  --db DATABASE   database to work on
  --date DAY      the day to load, YYYY-MM-DD
  --table TABLE   the rollup table; supported: daily_totals
  --dry-run       show what would be written; write nothing
  --verify        compare the loaded day with orders; write nothing
USAGE
}
db= day= table= mode=load
while [ $# -gt 0 ]; do
  case $1 in
    --db|--date|--table)
      if [ $# -lt 2 ]; then echo "backfill: $1 needs a value" >&2; exit 2; fi
      case $1 in --db) db=$2 ;; --date) day=$2 ;; --table) table=$2 ;; esac
      shift 2 ;;
    --dry-run) mode=dry-run; shift ;;
    --verify) mode=verify; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "backfill: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -z "$db" ] || [ -z "$day" ] || [ -z "$table" ]; then usage >&2; exit 2; fi
if ! [[ $day =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || ! date -d "$day" >/dev/null 2>&1; then
  echo "backfill: not a date: $day (want YYYY-MM-DD)" >&2; exit 2
fi
if [ "$table" != daily_totals ]; then
  echo "backfill: unknown table: $table (supported: daily_totals)" >&2; exit 2
fi
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
sql() { psql -X -q -tA -F ' ' -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
src="SELECT store_id, count(*) AS orders, sum(amount_cents) AS revenue_cents
     FROM orders WHERE ordered_at >= DATE '$day' AND ordered_at < DATE '$day' + 1
     GROUP BY store_id"
if ! summary=$(sql "SELECT count(*), coalesce(sum(orders), 0), to_char(coalesce(sum(revenue_cents), 0) / 100.0, 'FM9999999990.00') FROM ($src) s"); then
  echo "backfill: cannot read orders from database $db" >&2; exit 2
fi
read -r stores orders total <<<"$summary"
if [ "$stores" = 0 ]; then echo "$day $table: no orders on this day; nothing to do"; exit 0; fi
case $mode in
  dry-run)
    echo "[dry-run] $day $table: would insert $stores rows ($orders orders, $total total)" ;;
  load)
    if ! sql "INSERT INTO daily_totals (day, store_id, orders, revenue_cents, loaded_by)
              SELECT DATE '$day', store_id, orders, revenue_cents, 'backfill' FROM ($src) s" >/dev/null; then
      echo "backfill: $day $table: failed, nothing written for this day" >&2; exit 1
    fi
    echo "$day $table: inserted $stores rows ($orders orders, $total total)" ;;
  verify)
    bad=$(sql "SELECT count(*) FROM ($src) s FULL JOIN (SELECT * FROM daily_totals WHERE day = DATE '$day') d
               ON d.store_id = s.store_id
               WHERE d.store_id IS NULL OR s.store_id IS NULL
                  OR d.orders <> s.orders OR d.revenue_cents <> s.revenue_cents") || exit 2
    if [ "$bad" = 0 ]; then
      echo "$day $table: $stores rows, matches orders ($orders orders, $total total)"
    else
      echo "$day $table: MISMATCH with orders ($bad of $stores stores differ or are missing)" >&2; exit 1
    fi ;;
esac
SH
chmod +x "$dir/bin/backfill"
echo "scenario ready in $dir (database $db, days $days${stale_day:+, half-loaded $stale_day})"
