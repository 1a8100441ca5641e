#!/usr/bin/env bash
# Builds the "shop api" repository with a Dockerfile and a deploy manifest, a
# fake `docker` (local image store + a registry kept in files), a rollout
# script and a smoke test. The registry is in its nightly garbage collection:
# the first push answers 503, the next one goes through.
# Nothing leaves DIR; no network. Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/bin" "$dir/src" "$dir/deploy" "$dir/state/docker" "$dir/state/registry" "$dir/state/cluster"

cat >"$dir/Dockerfile" <<'EOF'
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY src/ ./src/
CMD ["gunicorn", "-b", "0.0.0.0:8000", "src.app:app"]
EOF
printf 'flask==3.0.3\ngunicorn==22.0.0\n' >"$dir/requirements.txt"
cat >"$dir/src/app.py" <<'EOF'
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
EOF
printf 'state/\nbin/\n' >"$dir/.gitignore"

cat >"$dir/deploy/api.yaml" <<'EOF'
# Production deployment of the shop api. rollout.sh applies it.
name: api
namespace: shop
replicas: 3
image: registry.example.internal/shop/api:2.2.4
port: 8000
healthcheck: /healthz
EOF

# ---------------------------------------------------------------- fake docker
cat >"$dir/bin/docker" <<'SH'
#!/usr/bin/env bash
# A small stand-in for the docker CLI: images in state/docker/images
# ("REF ID CREATED SIZE"), the registry in state/registry/<host>/<repo>/<tag>.
root=$(cd "$(dirname "$0")/.." && pwd)
images="$root/state/docker/images"
touch "$images"
die() { echo "$*" >&2; exit 1; }
norm() { case "$1" in *:*) echo "$1" ;; *) echo "$1:latest" ;; esac; }
image_id() { awk -v r="$1" '$1 == r { print $2 }' "$images" | tail -n 1; }
layers() { # five layer ids, stable for one image id
  for n in 1 2 3 4 5; do printf '%s\n' "$(printf '%s%s' "$1" "$n" | sha256sum | cut -c1-12)"; done
}
cmd=${1:-}
[ -n "$cmd" ] && shift
case "$cmd" in
build)
  tag= ctx=
  while [ $# -gt 0 ]; do
    case "$1" in
    -t | --tag) tag=$2; shift 2 ;;
    -t*) tag=${1#-t}; shift ;;
    --tag=*) tag=${1#--tag=}; shift ;;
    -*) shift ;;
    *) ctx=$1; shift ;;
    esac
  done
  [ -n "$ctx" ] || die '"docker build" requires exactly 1 argument.'
  [ -f "$ctx/Dockerfile" ] || die "ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory"
  id=$(cat "$ctx/Dockerfile" "$ctx/requirements.txt" "$ctx"/src/* 2>/dev/null | { cat; echo "$tag"; } | sha256sum | cut -c1-64)
  n=$(grep -cvE '^\s*(#|$)' "$ctx/Dockerfile")
  line() { printf ' => %-68s %s\n' "$1" "$2"; }
  echo "[+] Building 6.4s ($((n + 4))/$((n + 4))) FINISHED                                   docker:default"
  line "[internal] load build definition from Dockerfile" 0.0s
  line "=> transferring dockerfile: $(wc -c <"$ctx/Dockerfile" | tr -d ' ')B" 0.0s
  line "[internal] load metadata for docker.io/library/python:3.12-slim" 0.9s
  line "[internal] load .dockerignore" 0.0s
  i=0
  grep -vE '^\s*(#|$)' "$ctx/Dockerfile" | while read -r instr rest; do
    i=$((i + 1))
    case "$instr" in
    FROM) line "[1/$((n - 1))] FROM docker.io/library/$rest@sha256:3f5c6a1e8b6a4bd1f0e6f8c9d2a7b4e5c1d0" 0.0s ;;
    CMD | ENTRYPOINT | EXPOSE | ENV) ;;
    RUN) line "[$i/$((n - 1))] RUN $rest" 4.1s; sleep 0.3 ;;
    *) line "[$i/$((n - 1))] $instr $rest" 0.1s ;;
    esac
  done
  line "exporting to image" 0.4s
  line "=> exporting layers" 0.3s
  line "=> writing image sha256:${id:0:12}" 0.0s
  if [ -n "$tag" ]; then
    line "=> naming to docker.io/$(norm "$tag")" 0.0s
    echo "$(norm "$tag") $id $(date +%s) 187MB" >>"$images"
  fi
  ;;
tag)
  [ $# -eq 2 ] || die '"docker tag" requires exactly 2 arguments.'
  src=$(norm "$1") dst=$(norm "$2")
  id=$(image_id "$src")
  [ -n "$id" ] || die "Error response from daemon: No such image: $src"
  echo "$dst $id $(date +%s) 187MB" >>"$images"
  ;;
images)
  printf '%-45s %-10s %-14s %-16s %s\n' REPOSITORY TAG "IMAGE ID" CREATED SIZE
  sort -u -k1,1 "$images" | while read -r ref id _ size; do
    printf '%-45s %-10s %-14s %-16s %s\n' "${ref%:*}" "${ref##*:}" "${id:0:12}" "2 minutes ago" "$size"
  done
  ;;
push)
  [ $# -eq 1 ] || die '"docker push" requires exactly 1 argument.'
  ref=$(norm "$1")
  repo=${ref%:*} tag=${ref##*:}
  id=$(image_id "$ref")
  [ -n "$id" ] || die "An image does not exist locally with the tag: $repo"
  echo "The push refers to repository [$repo]"
  case "${repo%%/*}" in
  *.*) ;;
  *)
    layers "$id" | while read -r l; do echo "$l: Preparing"; done
    die "denied: requested access to the resource is denied" ;;
  esac
  layers "$id" | while read -r l; do echo "$l: Preparing"; done
  layers "$id" | tail -n 3 | while read -r l; do echo "$l: Waiting"; done
  sleep 0.5
  if [ -e "$root/state/registry/.gc-in-progress" ]; then
    # The registry sheds load while its garbage collection runs; it is over
    # by the time anyone retries.
    rm -f "$root/state/registry/.gc-in-progress"
    echo "$(layers "$id" | head -n 1): Pushing [=============>                                     ]  12.6MB/48.3MB"
    die "received unexpected HTTP status: 503 Service Unavailable"
  fi
  layers "$id" | { read -r first; echo "$first: Pushed"; while read -r l; do echo "$l: Layer already exists"; done; }
  digest=$(printf '%s%s' "$id" "$ref" | sha256sum | cut -c1-64)
  mkdir -p "$root/state/registry/$repo"
  echo "sha256:$digest" >"$root/state/registry/$repo/$tag"
  echo "$tag: digest: sha256:$digest size: 1784"
  ;;
--version | version) echo "Docker version 26.1.4, build 5650f9b" ;;
"") die "Usage:  docker [OPTIONS] COMMAND" ;;
*) die "docker: '$cmd' is not a docker command.
See 'docker --help'" ;;
esac
SH

# ------------------------------------------------------------- rollout script
cat >"$dir/deploy/rollout.sh" <<'SH'
#!/usr/bin/env bash
# Rolls the deployment in a manifest out to production: every replica pulls
# the manifest's image from the registry, one at a time.
set -e
manifest=${1:?usage: rollout.sh MANIFEST}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$manifest" ] || { echo "rollout: $manifest: no such file" >&2; exit 1; }
name=$(awk '$1 == "name:" { print $2 }' "$manifest")
replicas=$(awk '$1 == "replicas:" { print $2 }' "$manifest")
image=$(awk '$1 == "image:" { print $2 }' "$manifest")
repo=${image%:*} tag=${image##*:}
if [ ! -f "$root/state/registry/$repo/$tag" ]; then
  echo "deployment \"$name\" image updated"
  echo "Waiting for deployment \"$name\" rollout to finish: 0 of $replicas updated replicas are available..."
  echo "error: replica $name-1: Failed to pull image \"$image\": manifest unknown" >&2
  echo "rollout: aborted, $replicas/$replicas replicas still on the previous image" >&2
  exit 1
fi
echo "deployment \"$name\" image updated"
for i in $(seq 1 "$replicas"); do
  sleep 0.3
  if [ "$i" -lt "$replicas" ]; then
    echo "Waiting for deployment \"$name\" rollout to finish: $i of $replicas updated replicas are available..."
  fi
done
echo "$image" >"$root/state/cluster/$name.image"
echo "$replicas" >"$root/state/cluster/$name.ready"
echo "deployment \"$name\" successfully rolled out"
SH

# ----------------------------------------------------------------- smoke test
cat >"$dir/deploy/smoke.sh" <<'SH'
#!/usr/bin/env bash
# Smoke test after a rollout: every replica answers /healthz and runs the
# expected version.
root=$(cd "$(dirname "$0")/.." && pwd)
want=${1:?usage: smoke.sh VERSION}
live=$(cat "$root/state/cluster/api.image" 2>/dev/null)
ready=$(cat "$root/state/cluster/api.ready" 2>/dev/null || echo 0)
if [ -z "$live" ]; then echo "smoke: FAIL api has no running replicas" >&2; exit 1; fi
got=${live##*:}
if [ "$got" != "$want" ]; then echo "smoke: FAIL api is serving $got, expected $want" >&2; exit 1; fi
echo "GET /healthz on $ready/$ready replicas: 200"
echo "smoke: ok - api $got is serving"
SH

chmod +x "$dir/bin/docker" "$dir/deploy/rollout.sh" "$dir/deploy/smoke.sh"

# The deploy repository: the manifest change is committed after each release.
git -C "$dir" init -q -b main
git -C "$dir" config user.email release@example.com
git -C "$dir" config user.name "release bot"
git -C "$dir" add -A
git -C "$dir" commit -q -m "api 2.2.4"

# The version in production before this release.
echo "registry.example.internal/shop/api:2.2.4" >"$dir/state/cluster/api.image"
echo 3 >"$dir/state/cluster/api.ready"
mkdir -p "$dir/state/registry/registry.example.internal/shop/api"
echo "sha256:9a0c5e7d1b3f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c" \
  >"$dir/state/registry/registry.example.internal/shop/api/2.2.4"
# The registry's nightly garbage collection is running: the next push gets a 503.
touch "$dir/state/registry/.gc-in-progress"
echo "scenario ready in $dir"
