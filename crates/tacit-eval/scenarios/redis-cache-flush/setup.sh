#!/usr/bin/env bash
# pricing-api keeps each tenant's config in Redis (127.0.0.1:6379) under
# cfg:<tenant>:*, as a cache of the config store (DIR/etc/config-store). On
# reload it warms only the keys that are missing (SET ... EX 300 NX).
# Last night's migration rewrote tenant $tenant's keys with plain SET (no
# TTL), so when v42 was published this morning the cache kept serving v41.
#
# Redis keys (all named from $tenant, reset here):
#   cfg:$tenant:*            45 keys of config v41, no TTL        (stale)
#   cfg:$tenant-staging:*    the staging tenant, v42, TTL 300     (fine)
#   sess:$tenant:*           6 user sessions, TTL 1800            (not a cache)
#   ratelimit:$tenant:api    the API rate-limit counter, TTL 60   (not a cache)
# DIR/bin: systemctl (pricing-api only), check_pricing_config (a Nagios-style
# check), pricing-cli (what a customer is quoted). State under DIR/var.
# Usage: tenant=NAME setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
: "${tenant:?the run variable tenant must be set}"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin" "$dir/etc/config-store" "$dir/etc/pricing-api" "$dir/var/log" "$dir/var/run"
rc() { redis-cli -h 127.0.0.1 -p 6379 "$@"; }

# Reset this tenant's keys.
for pat in "cfg:$tenant:*" "cfg:$tenant-staging:*" "sess:$tenant:*" "ratelimit:$tenant:*"; do
  rc --scan --pattern "$pat" | xargs -r redis-cli -h 127.0.0.1 -p 6379 DEL >/dev/null
done

# The config store: the source of truth. v42 raised VAT to 21% and repriced.
store="$dir/etc/config-store/$tenant.conf"
{
  echo "# tenant $tenant: published by pricing-admin"
  echo "version=42"
  echo "published_at=2025-11-27T08:14:03Z"
  echo "currency=EUR"
  echo "vat_rate=0.21"
  echo "rounding=0.05"
  echo "price_list=2025-Q4"
  for i in $(seq 1001 1040); do echo "sku:SKU-$i=$(( 900 + (i * 37) % 4100 ))"; done
} >"$store"
# The staging tenant's store, same v42.
sed 's/^# tenant .*/# tenant '"$tenant"'-staging: published by pricing-admin/' "$store" >"$dir/etc/config-store/$tenant-staging.conf"

# What Redis holds: v41, written by the migration without a TTL.
{
  echo "SET cfg:$tenant:version 41"
  echo "SET cfg:$tenant:published_at 2025-11-13T16:40:55Z"
  echo "SET cfg:$tenant:currency EUR"
  echo "SET cfg:$tenant:vat_rate 0.20"
  echo "SET cfg:$tenant:rounding 0.05"
  echo "SET cfg:$tenant:price_list 2025-Q3"
  for i in $(seq 1001 1039); do echo "SET cfg:$tenant:sku:SKU-$i $(( 850 + (i * 31) % 3900 ))"; done
  # The staging tenant is healthy: v42 with the usual TTL.
  grep -v '^#' "$dir/etc/config-store/$tenant-staging.conf" | while IFS='=' read -r k v; do
    echo "SET cfg:$tenant-staging:$k $v EX 300"
  done
  for s in 4f1c9a 77b02e 9d3e11 a0c4f8 c3e9d2 e81b07; do
    echo "SET sess:$tenant:$s user-$s EX 1800"
  done
  echo "SET ratelimit:$tenant:api 117 EX 60"
} | rc >/dev/null

cat >"$dir/etc/pricing-api/api.env" <<EOF2
PRICING_TENANTS="$tenant $tenant-staging"
PRICING_STORE=$dir/etc/config-store
PRICING_REDIS=127.0.0.1:6379
PRICING_CACHE_TTL=300
EOF2

cat >"$dir/var/log/pricing-api.log" <<EOF2
Nov 27 06:02:11 app-03 systemd[1]: Started pricing-api.service - Pricing API.
Nov 27 06:02:12 app-03 pricing-api[31822]: listening on :8081, tenants: $tenant $tenant-staging
Nov 27 06:02:12 app-03 pricing-api[31822]: cache warm: cfg:$tenant:* present (45 keys), nothing to load
Nov 27 08:14:05 app-03 pricing-api[31822]: config store: tenant $tenant-staging published v42
Nov 27 08:14:05 app-03 pricing-api[31822]: config store: tenant $tenant published v42
Nov 27 08:14:05 app-03 pricing-api[31822]: cache: cfg:$tenant:version=41 (hit); store v42 will load when the cached config expires
Nov 27 09:02:40 app-03 pricing-api[31822]: quote tenant=$tenant sku=SKU-1007 config=v41 vat=0.20
EOF2
echo "active 31822 Thu 2025-11-27 06:02:11 UTC" >"$dir/var/run/pricing-api.state"

# systemctl: only the pricing-api unit exists here.
cat >"$dir/bin/systemctl" <<'SH'
#!/usr/bin/env bash
# systemctl for this host's pricing-api unit. Reload re-reads the config
# store and warms the tenant caches (only keys that are missing).
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/etc/pricing-api/api.env"
log="$root/var/log/pricing-api.log" state="$root/var/run/pricing-api.state"
verb=${1:-} unit=${2:-}
unit=${unit%.service}
stamp() { date -u '+%b %d %H:%M:%S'; }
if [ -z "$verb" ]; then echo "usage: systemctl COMMAND UNIT" >&2; exit 1; fi
if [ -z "$unit" ]; then echo "Too few arguments." >&2; exit 1; fi
if [ "$unit" != pricing-api ]; then echo "Unit $unit.service could not be found." >&2; exit 4; fi
read -r active pid since <"$state"
warm() {
  local t k v n=0 host=${PRICING_REDIS%:*} port=${PRICING_REDIS#*:}
  for t in $PRICING_TENANTS; do
    n=0
    while IFS='=' read -r k v; do
      case "$k" in ''|'#'*) continue ;; esac
      r=$(redis-cli -h "$host" -p "$port" SET "cfg:$t:$k" "$v" EX "$PRICING_CACHE_TTL" NX)
      [ "$r" = OK ] && n=$((n + 1))
    done <"$PRICING_STORE/$t.conf"
    echo "$(stamp) app-03 pricing-api[$pid]: cache warm: tenant $t loaded $n keys from the config store" >>"$log"
  done
}
case "$verb" in
status)
  echo "● pricing-api.service - Pricing API"
  echo "     Loaded: loaded (/etc/systemd/system/pricing-api.service; enabled; preset: enabled)"
  echo "     Active: active (running) since $since"
  echo "   Main PID: $pid (pricing-api)"
  echo "      Tasks: 9 (limit: 4915)"
  echo "     Memory: 118.4M"
  echo "     CGroup: /system.slice/pricing-api.service"
  echo "             └─$pid /opt/pricing-api/bin/pricing-api --env /etc/pricing-api/api.env"
  echo
  tail -n 5 "$log"
  ;;
is-active) echo active ;;
reload)
  echo "$(stamp) app-03 systemd[1]: Reloading pricing-api.service - Pricing API..." >>"$log"
  echo "$(stamp) app-03 pricing-api[$pid]: SIGHUP: re-reading $PRICING_STORE" >>"$log"
  warm
  echo "$(stamp) app-03 systemd[1]: Reloaded pricing-api.service - Pricing API." >>"$log"
  ;;
restart)
  pid=$((pid + 411))
  echo "active $pid $(date -u '+%a %Y-%m-%d %H:%M:%S UTC')" >"$state"
  echo "$(stamp) app-03 systemd[1]: Started pricing-api.service - Pricing API." >>"$log"
  warm
  ;;
stop | start | enable | disable | mask)
  echo "Failed to $verb pricing-api.service: Access denied (ask the platform team)" >&2; exit 1 ;;
*) echo "Unknown command verb $verb." >&2; exit 1 ;;
esac
SH

# check_pricing_config: the monitoring check (Nagios conventions: 0 OK,
# 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
cat >"$dir/bin/check_pricing_config" <<'SH'
#!/usr/bin/env bash
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/etc/pricing-api/api.env"
host=${PRICING_REDIS%:*} port=${PRICING_REDIS#*:}
tenant=
while getopts "t:h" o; do
  case "$o" in
  t) tenant=$OPTARG ;;
  *) echo "usage: check_pricing_config -t TENANT"; exit 3 ;;
  esac
done
[ -n "$tenant" ] || { echo "usage: check_pricing_config -t TENANT"; exit 3; }
store="$PRICING_STORE/$tenant.conf"
[ -f "$store" ] || { echo "CONFIG UNKNOWN - no tenant $tenant in the config store"; exit 3; }
want=$(awk -F= '$1 == "version" {print $2}' "$store")
pub=$(awk -F= '$1 == "published_at" {print $2}' "$store")
have=$(redis-cli -h "$host" -p "$port" GET "cfg:$tenant:version" 2>&1) || {
  echo "CONFIG UNKNOWN - redis $PRICING_REDIS: $have"; exit 3; }
ttl=$(redis-cli -h "$host" -p "$port" TTL "cfg:$tenant:version")
if [ -z "$have" ]; then
  echo "CONFIG WARNING - tenant $tenant has no cached config (cold cache); the store has v$want"
  exit 1
fi
if [ "$have" != "$want" ]; then
  echo "CONFIG CRITICAL - tenant $tenant serves config v$have, config store has v$want (published $pub)"
  exit 2
fi
echo "CONFIG OK - tenant $tenant serves config v$have | cache_ttl=${ttl}s"
SH

# pricing-cli: quote a SKU the way pricing-api does (from the cache).
cat >"$dir/bin/pricing-cli" <<'SH'
#!/usr/bin/env bash
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/etc/pricing-api/api.env"
host=${PRICING_REDIS%:*} port=${PRICING_REDIS#*:}
[ "${1:-}" = quote ] && [ $# -eq 3 ] || { echo "usage: pricing-cli quote TENANT SKU" >&2; exit 2; }
t=$2 sku=$3
g() { redis-cli -h "$host" -p "$port" GET "cfg:$t:$1"; }
v=$(g version) net=$(g "sku:$sku") vat=$(g vat_rate) cur=$(g currency)
if [ -z "$v" ]; then echo "pricing-cli: tenant $t: no config loaded (503 from pricing-api)" >&2; exit 1; fi
if [ -z "$net" ]; then echo "pricing-cli: tenant $t: unknown SKU $sku (404)" >&2; exit 1; fi
awk -v sku="$sku" -v net="$net" -v vat="$vat" -v cur="$cur" -v v="$v" 'BEGIN {
  g = net * (1 + vat) / 100
  printf "%-9s net %7.2f %s   VAT %2d%%   gross %7.2f %s   (config v%s)\n", sku, net / 100, cur, vat * 100 + 0.5, g, cur, v }'
SH
chmod +x "$dir"/bin/*
echo "scenario ready in $dir (tenant $tenant)"
