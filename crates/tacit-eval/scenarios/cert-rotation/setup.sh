#!/usr/bin/env bash
# World for cert-rotation: a small internal CA, and an nginx (a fake in
# DIR/bin) serving a certificate for $host that expires in 5 days. The old
# private key is world-readable, as it was left by an earlier install.
# Usage: host=api.shop.internal setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
host=${host:?the run variable host must be set}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
mkdir -p bin ca etc/tls etc/nginx run var/log/nginx

# The internal CA (unencrypted key: it is a lab CA kept on this host).
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca/ca.key -out ca/ca.crt \
  -days 3650 -subj "/O=Shop/CN=Shop Internal CA" 2>/dev/null
chmod 600 ca/ca.key

# The certificate nginx serves now: 5 days left.
openssl genrsa -out etc/tls/server.key 2048 2>/dev/null
openssl req -new -key etc/tls/server.key -subj "/CN=$host" \
  -addext "subjectAltName=DNS:$host" -out run/old.csr 2>/dev/null
openssl x509 -req -in run/old.csr -CA ca/ca.crt -CAkey ca/ca.key -CAcreateserial \
  -days 5 -copy_extensions copy -out etc/tls/server.crt 2>/dev/null
rm -f run/old.csr
chmod 644 etc/tls/server.key etc/tls/server.crt

cat >etc/nginx/nginx.conf <<EOF
user www-data;
worker_processes auto;
pid $dir/run/nginx.pid;
error_log $dir/var/log/nginx/error.log;

events {
    worker_connections 768;
}

http {
    access_log $dir/var/log/nginx/access.log;

    server {
        listen 443 ssl;
        server_name $host;

        ssl_certificate     $dir/etc/tls/server.crt;
        ssl_certificate_key $dir/etc/tls/server.key;
        ssl_protocols       TLSv1.2 TLSv1.3;

        location / {
            proxy_pass http://127.0.0.1:8080;
        }
    }
}
EOF

# The running master: its pid file, and the certificate it has loaded.
echo 1187 >run/nginx.pid
cp etc/tls/server.crt run/loaded.crt

cat >bin/nginx <<'FAKE'
#!/usr/bin/env bash
# A fake nginx: -t tests the configuration (including loading the TLS
# certificate and key, as the real one does), -s reload tests it and then
# signals the master. Messages and exit codes are nginx 1.22's.
root=$(cd "$(dirname "$0")/.." && pwd)
conf="$root/etc/nginx/nginx.conf"
test_only=0
signal=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t) test_only=1 ;;
    -T) test_only=2 ;;
    -q) ;;
    -s) shift; signal=${1:-} ;;
    -c) shift; conf=${1:-} ;;
    -v) echo "nginx version: nginx/1.22.1" >&2; exit 0 ;;
    -V) echo "nginx version: nginx/1.22.1" >&2
        echo "built with OpenSSL 3.0.11 19 Sep 2023 (running with OpenSSL 3.0.19 27 Jan 2026)" >&2
        echo "TLS SNI support enabled" >&2; exit 0 ;;
    -h|-\?) echo "Usage: nginx [-?hvVtTq] [-s signal] [-p prefix] [-e filename] [-c filename] [-g directives]" >&2; exit 0 ;;
    *) echo "nginx: invalid option: \"${1#-}\"" >&2; exit 1 ;;
  esac
  shift
done
if [ -n "$signal" ]; then
  case "$signal" in stop|quit|reopen|reload) ;; *)
    echo "nginx: invalid option: \"-s $signal\"" >&2; exit 1 ;;
  esac
fi
if [ ! -f "$conf" ]; then
  echo "nginx: [emerg] open() \"$conf\" failed (2: No such file or directory)" >&2
  [ $test_only -gt 0 ] && echo "nginx: configuration file $conf test failed" >&2
  exit 1
fi
directive() { awk -v d="$1" '$1 == d { v = $2; sub(/;$/, "", v); print v; exit }' "$conf"; }
crt=$(directive ssl_certificate)
key=$(directive ssl_certificate_key)
pidfile=$(directive pid)

emerg() {
  echo "nginx: [emerg] $1" >&2
  [ $test_only -gt 0 ] && echo "nginx: configuration file $conf test failed" >&2
  exit 1
}
nofile() {
  echo "BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen($1, r) error:10000080:BIO routines::no such file)"
}
[ -f "$crt" ] || emerg "cannot load certificate \"$crt\": $(nofile "$crt")"
[ -r "$crt" ] || emerg "cannot load certificate \"$crt\": BIO_new_file() failed (SSL: error:8000000D:system library::Permission denied:calling fopen($crt, r) error:10080002:BIO routines::system lib)"
crt_pub=$(openssl x509 -noout -pubkey -in "$crt" 2>/dev/null) ||
  emerg "cannot load certificate \"$crt\": PEM_read_bio_X509_AUX() failed (SSL: error:0480006C:PEM routines::no start line:Expecting: TRUSTED CERTIFICATE)"
[ -f "$key" ] || emerg "cannot load certificate key \"$key\": $(nofile "$key")"
key_pub=$(openssl pkey -pubout -in "$key" 2>/dev/null) ||
  emerg "cannot load certificate key \"$key\": PEM_read_bio_PrivateKey() failed (SSL: error:1E08010C:DECODER routines::unsupported:No supported data to decode. Input type: PEM)"
[ "$crt_pub" = "$key_pub" ] ||
  emerg "SSL_CTX_use_PrivateKey(\"$key\") failed (SSL: error:05800074:x509 certificate routines::key values mismatch)"

if [ $test_only -gt 0 ]; then
  echo "nginx: the configuration file $conf syntax is ok" >&2
  echo "nginx: configuration file $conf test is successful" >&2
  [ $test_only -eq 2 ] && { echo "# configuration file $conf:"; cat "$conf"; }
  exit 0
fi
if [ -z "$signal" ]; then
  echo "nginx: [emerg] bind() to 0.0.0.0:443 failed (98: Address already in use)" >&2
  exit 1
fi
if [ ! -s "$pidfile" ]; then
  echo "nginx: [error] open() \"$pidfile\" failed (2: No such file or directory)" >&2
  exit 1
fi
master=$(cat "$pidfile")
self=$((master + 1000 + RANDOM % 500))
now=$(date '+%Y/%m/%d %H:%M:%S')
echo "$now [notice] $self#$self: signal process started" >&2
case "$signal" in
  reload)
    cp "$crt" "$root/run/loaded.crt"
    echo "$now [notice] $master#$master: signal 1 (SIGHUP) received from $self, reconfiguring" >>"$root/var/log/nginx/error.log" ;;
  stop|quit)
    rm -f "$pidfile" "$root/run/loaded.crt" ;;
esac
exit 0
FAKE
chmod +x bin/nginx
echo "scenario ready in $dir"
