#!/usr/bin/env bash
# An nginx front for the public API: /v1/ and /v2/ both go to the api_v1
# pool; the api_v2 pool is defined but unused. The change points /v2/ at it.
#
# DIR/etc/nginx/nginx.conf, DIR/etc/nginx/conf.d/api.conf  the configuration
# DIR/bin/nginx   -t (test), -T, -s reload, -v: parses the configuration like
#                 nginx (blocks, semicolons, known directives, upstream names)
#                 and reports errors with file:line as nginx does. A reload
#                 writes the running routes to DIR/run/nginx/routes.json.
# DIR/bin/curl    answers for the local listener 127.0.0.1:8080 from the
#                 running routes (each pool's /health says which pool it is);
#                 anything else cannot connect. No network.
# Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/etc" "$dir/run" "$dir/var" "$dir/bin" "$dir/lib"
mkdir -p "$dir/bin" "$dir/lib" "$dir/etc/nginx/conf.d" "$dir/run/nginx" "$dir/var/log/nginx"

cat >"$dir/etc/nginx/nginx.conf" <<'CONF'
worker_processes  auto;
error_log  var/log/nginx/error.log warn;
pid        run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    default_type       application/octet-stream;
    sendfile           on;
    keepalive_timeout  65;
    server_tokens      off;

    log_format main '$remote_addr - [$time_local] "$request" $status '
                    '$body_bytes_sent upstream=$upstream_addr rt=$request_time';
    access_log var/log/nginx/access.log main;

    include conf.d/*.conf;
}
CONF

cat >"$dir/etc/nginx/conf.d/api.conf" <<'CONF'
# api.shop.internal: the public API. TLS ends at the load balancer.

upstream api_v1 {
    server 10.0.4.11:8080 max_fails=3 fail_timeout=10s;
    server 10.0.4.12:8080 max_fails=3 fail_timeout=10s;
    keepalive 32;
}

# The v2 API's own pool (CHG-2291). /v2/ moves here once it is healthy.
upstream api_v2 {
    server 10.0.4.21:8080 max_fails=3 fail_timeout=10s;
    server 10.0.4.22:8080 max_fails=3 fail_timeout=10s;
    keepalive 32;
}

server {
    listen 8080;
    server_name api.shop.internal;

    client_max_body_size 2m;

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Request-Id $request_id;
    proxy_read_timeout 30s;

    location = /healthz {
        return 200 "ok\n";
    }

    location /v1/ {
        proxy_pass http://api_v1;
    }

    # /v2/ is served by the v1 pool until CHG-2291 is done.
    location /v2/ {
        proxy_next_upstream error timeout http_502;
        proxy_pass http://api_v1;
    }
}
CONF

# The configuration parser both fakes use.
cat >"$dir/lib/nginxconf.py" <<'PY'
"""Just enough of nginx's configuration parser to fail the way nginx fails."""
import glob
import os

KNOWN = {
    "worker_processes", "error_log", "pid", "events", "worker_connections", "http",
    "default_type", "sendfile", "keepalive_timeout", "server_tokens", "log_format",
    "access_log", "include", "upstream", "server", "keepalive", "listen", "server_name",
    "client_max_body_size", "proxy_http_version", "proxy_set_header", "proxy_read_timeout",
    "proxy_connect_timeout", "proxy_next_upstream", "proxy_pass", "location", "return",
    "add_header", "root", "index", "try_files", "rewrite", "set", "if", "limit_req",
    "proxy_buffering", "gzip",
}
BLOCKS = {"events", "http", "upstream", "server", "location", "if"}


class ConfError(Exception):
    def __init__(self, msg, path, line):
        super().__init__(f'{msg} in {path}:{line}')


def tokens(path):
    text = open(path).read()
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1; i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c, line; i += 1
        elif c in "\"'":
            j, start = i + 1, line
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                if j < n and text[j] == "\n":
                    line += 1
                j += 1
            yield ("STR", text[i + 1:j]), start; i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{};":
                j += 1
            yield ("WORD", text[i:j]), line; i = j


def parse(path, prefix):
    """The directive tree: [(name, args, children, path, line)]."""
    stack, cur, stmt, last = [], [], [], 1
    root = cur
    for tok, line in tokens(path):
        last = line
        if tok == ";":
            if not stmt:
                raise ConfError('unexpected ";"', path, line)
            name, args = stmt[0][0], [a for a, _ in stmt[1:]]
            if name not in KNOWN:
                raise ConfError(f'unknown directive "{name}"', path, stmt[0][1])
            if name == "include":
                pat = args[0] if os.path.isabs(args[0]) else os.path.join(prefix, "etc/nginx", args[0])
                for f in sorted(glob.glob(pat)):
                    cur.extend(parse(f, prefix))
            else:
                cur.append((name, args, None, path, stmt[0][1]))
            stmt = []
        elif tok == "{":
            if not stmt:
                raise ConfError('unexpected "{"', path, line)
            name, args = stmt[0][0], [a for a, _ in stmt[1:]]
            if name not in KNOWN:
                raise ConfError(f'unknown directive "{name}"', path, stmt[0][1])
            if name not in BLOCKS:
                raise ConfError(f'directive "{name}" has no opening "{{"', path, line)
            node = (name, args, [], path, stmt[0][1])
            cur.append(node); stack.append(cur); cur = node[2]; stmt = []
        elif tok == "}":
            if stmt or not stack:
                raise ConfError('unexpected "}"', path, line)
            cur = stack.pop()
        else:
            stmt.append((tok[1], line))
    if stmt or stack:
        raise ConfError('unexpected end of file, expecting "}"' if stack else 'unexpected end of file, expecting ";" or "}"', path, last)
    return root


def routes(conf, prefix):
    """Check upstream references and return {listen: [(match, target)]}."""
    http = [n for n in conf if n[0] == "http"]
    out = {}
    for h in http:
        ups = {n[1][0] for n in h[2] if n[0] == "upstream"}
        for srv in (n for n in h[2] if n[0] == "server"):
            listen = next((n[1][0] for n in srv[2] if n[0] == "listen"), "80")
            table = []
            for loc in (n for n in srv[2] if n[0] == "location"):
                exact = loc[1][0] == "="
                uri = loc[1][-1]
                target = None
                for d in loc[2]:
                    if d[0] == "proxy_pass":
                        host = d[1][0].split("://", 1)[-1].split("/", 1)[0]
                        if host not in ups and "." not in host and ":" not in host:
                            raise ConfError(f'host not found in upstream "{host}"', d[3], d[4])
                        target = ["proxy", host]
                    elif d[0] == "return":
                        target = ["return", d[1][0], d[1][1] if len(d[1]) > 1 else ""]
                table.append([("=" if exact else "^") + uri, target])
            out[listen] = table
    return out
PY

cat >"$dir/bin/nginx" <<'PY'
#!/usr/bin/env python3
import hashlib, json, os, sys, time
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "lib"))
import nginxconf

conf = os.path.join(root, "etc/nginx/nginx.conf")
pidf = os.path.join(root, "run/nginx.pid")
state = os.path.join(root, "run/nginx/routes.json")
errlog = os.path.join(root, "var/log/nginx/error.log")
args = sys.argv[1:]

def stamp():
    return time.strftime("%Y/%m/%d %H:%M:%S")

def load():
    try:
        c = nginxconf.parse(conf, root)
        return nginxconf.routes(c, root), c
    except nginxconf.ConfError as e:
        return None, str(e)

def log(level, msg):
    with open(errlog, "a") as f:
        f.write(f"{stamp()} [{level}] 31407#31407: {msg}\n")

if not args or args[0] in ("-h", "-?"):
    print("nginx version: nginx/1.24.0\nUsage: nginx [-?hvVtTq] [-s signal] [-p prefix] [-e filename] [-c filename] [-g directives]")
    sys.exit(0)
if args[0] == "-v":
    print("nginx version: nginx/1.24.0", file=sys.stderr); sys.exit(0)
if args[0] in ("-t", "-T"):
    r, err = load()
    if r is None:
        print(f"nginx: [emerg] {err}", file=sys.stderr)
        print(f"nginx: configuration file {conf} test failed", file=sys.stderr)
        sys.exit(1)
    print(f"nginx: the configuration file {conf} syntax is ok", file=sys.stderr)
    print(f"nginx: configuration file {conf} test is successful", file=sys.stderr)
    if args[0] == "-T":
        for f in [conf] + sorted(os.path.join(root, "etc/nginx/conf.d", x) for x in os.listdir(os.path.join(root, "etc/nginx/conf.d")) if x.endswith(".conf")):
            print(f"# configuration file {f}:"); print(open(f).read())
    sys.exit(0)
if args[:1] == ["-s"] and len(args) > 1:
    sig = args[1]
    if sig not in ("reload", "reopen", "stop", "quit"):
        print(f'nginx: [emerg] invalid option: "-s {sig}"', file=sys.stderr); sys.exit(1)
    r, err = load()
    if r is None:
        print(f"nginx: [emerg] {err}", file=sys.stderr); sys.exit(1)
    if not os.path.exists(pidf):
        print(f'nginx: [error] open() "{pidf}" failed (2: No such file or directory)', file=sys.stderr); sys.exit(1)
    print(f"{stamp()} [notice] 52118#52118: signal process started", file=sys.stderr)
    if sig == "reload":
        gen = json.load(open(state))["generation"] + 1 if os.path.exists(state) else 1
        blob = b"".join(open(f, "rb").read() for f in [conf] + sorted(
            os.path.join(root, "etc/nginx/conf.d", x) for x in os.listdir(os.path.join(root, "etc/nginx/conf.d"))))
        json.dump({"generation": gen, "reloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                   "config_sha256": hashlib.sha256(blob).hexdigest(), "listeners": r},
                  open(state, "w"), indent=2)
        log("notice", "signal 1 (SIGHUP) received from 52118, reconfiguring")
        log("notice", "reconfiguring")
        log("notice", "start worker processes")
        log("notice", "gracefully shutting down")
    sys.exit(0)
print(f'nginx: invalid option: "{args[0]}"', file=sys.stderr)
sys.exit(1)
PY

cat >"$dir/bin/curl" <<'PY'
#!/usr/bin/env python3
"""curl, for the local nginx listener only: answers from its running routes."""
import json, os, sys, time
from urllib.parse import urlsplit
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
state = os.path.join(root, "run/nginx/routes.json")
args, url, silent, head, include, fail = sys.argv[1:], None, False, False, False, False
i = 0
while i < len(args):
    a = args[i]
    if a in ("-H", "--header", "-o", "-w", "-X", "-m", "--max-time", "-A"):
        i += 1
    elif a.startswith("-") and not a.startswith("--"):
        silent |= "s" in a; head |= "I" in a; include |= "i" in a; fail |= "f" in a
    elif a == "--silent":
        silent = True
    elif a == "--head":
        head = True
    elif not a.startswith("-"):
        url = a
    i += 1
if url is None:
    print("curl: try 'curl --help' or 'curl --manual' for more information", file=sys.stderr); sys.exit(2)
u = urlsplit(url if "://" in url else "http://" + url)
port = u.port or 80
if u.hostname not in ("127.0.0.1", "localhost"):
    print(f"curl: (6) Could not resolve host: {u.hostname}", file=sys.stderr); sys.exit(6)
try:
    listeners = json.load(open(state))["listeners"]
except FileNotFoundError:
    listeners = {}
if str(port) not in listeners:
    print(f"curl: (7) Failed to connect to {u.hostname} port {port} after 0 ms: Couldn't connect to server", file=sys.stderr)
    sys.exit(7)
POOLS = {"api_v1": "1.9.12", "api_v2": "2.0.3"}
path = u.path or "/"
best, target = "", None
for m, t in listeners[str(port)]:
    if m[0] == "=" and path == m[1:]:
        best, target = m, t; break
    if m[0] == "^" and path.startswith(m[1:]) and len(m) > len(best):
        best, target = m, t
status, ctype, body, extra = 404, "text/html", "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", {}
if target and target[0] == "return":
    status, ctype, body = int(target[1]), "text/plain", target[2].replace("\\n", "\n")
elif target and target[0] == "proxy":
    pool = target[1]
    if path.rstrip("/").endswith("/health"):
        status, ctype = 200, "application/json"
        body = json.dumps({"status": "ok", "pool": pool, "version": POOLS.get(pool, "?")}) + "\n"
    else:
        status, ctype, body = 401, "application/json", '{"error":"missing bearer token"}\n'
reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}[status]
hdr = (f"HTTP/1.1 {status} {reason}\r\nServer: nginx\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime())}\r\n"
       f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
if fail and status >= 400:
    if not silent:
        print(f"curl: (22) The requested URL returned error: {status}", file=sys.stderr)
    sys.exit(22)
if head:
    sys.stdout.write(hdr); sys.exit(0)
sys.stdout.write((hdr if include else "") + body)
PY
chmod +x "$dir/bin/nginx" "$dir/bin/curl"

# nginx is running with the current configuration.
echo 31407 >"$dir/run/nginx.pid"
"$dir/bin/nginx" -s reload 2>/dev/null
: >"$dir/var/log/nginx/error.log"
echo "scenario ready in $dir"
