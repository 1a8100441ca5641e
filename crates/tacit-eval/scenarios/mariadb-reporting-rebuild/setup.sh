#!/usr/bin/env bash
# A site's primary MariaDB database ($db: customers, orders, a revenue view)
# on 127.0.0.1:3306, and its reporting copy ${db}_reporting read by the BI
# tool as 'bi_$db'@'%'. The reporting copy is a month stale (1,100 orders
# against the primary's 1,250) and the BI user still has last month's
# password. With new_site=yes the site has never had a reporting copy: there
# is neither ${db}_reporting nor a BI user yet.
#
# On MariaDB it drops and recreates $db and ${db}_reporting and drops the BI
# user; everything else lives under DIR (dumps/).
# Usage: db=NAME [new_site=yes] setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${db:?the run variable db must be set}"
new_site=${new_site:-no}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/dumps"

my() { mariadb -h 127.0.0.1 -u root --batch "$@"; }

my -e "DROP DATABASE IF EXISTS \`$db\`;
       DROP DATABASE IF EXISTS \`${db}_reporting\`;
       DROP USER IF EXISTS 'bi_$db'@'%';"

# The primary. Row counts are fixed so the check has something to compare.
schema() {
  local target=$1 orders=$2
  my -e "CREATE DATABASE \`$target\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  my "$target" <<SQL
CREATE TABLE customers (
  id         INT UNSIGNED NOT NULL PRIMARY KEY,
  email      VARCHAR(190) NOT NULL UNIQUE,
  country    CHAR(2) NOT NULL,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB;

CREATE TABLE orders (
  id           INT UNSIGNED NOT NULL PRIMARY KEY,
  customer_id  INT UNSIGNED NOT NULL,
  total_cents  INT UNSIGNED NOT NULL,
  status       ENUM('paid','refunded','pending') NOT NULL,
  ordered_at   DATETIME NOT NULL,
  KEY orders_customer_idx (customer_id),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;

INSERT INTO customers
  SELECT seq, CONCAT('customer', seq, '@example.net'),
         ELT(1 + seq % 4, 'DE', 'FR', 'NL', 'IT'),
         '2025-01-01' + INTERVAL seq HOUR
  FROM seq_1_to_300;

INSERT INTO orders
  SELECT seq, 1 + (seq * 7) % 300, 500 + (seq * 131) % 25000,
         ELT(1 + (seq % 10 = 0) + (seq % 17 = 0), 'paid', 'refunded', 'pending'),
         '2025-06-01' + INTERVAL (seq * 3) HOUR
  FROM seq_1_to_$orders;

CREATE VIEW v_daily_revenue AS
  SELECT DATE(ordered_at) AS day, SUM(total_cents) AS revenue_cents, COUNT(*) AS orders
  FROM orders WHERE status = 'paid' GROUP BY DATE(ordered_at);
SQL
}

schema "$db" 1250

if [ "$new_site" != yes ]; then
  # Last month's reporting copy, and the BI user with last month's password.
  schema "${db}_reporting" 1100
  my -e "CREATE USER 'bi_$db'@'%' IDENTIFIED BY 'Jq2-last-month-7Rw';
         GRANT SELECT ON \`${db}_reporting\`.* TO 'bi_$db'@'%';"
fi
echo "scenario ready in $dir (database $db, new site: $new_site)"
