#!/usr/bin/env bash
# World for k8s-rollout: a cluster (context shop-eu1) with the web app
# deployed by helm in the namespaces staging (1.8.3) and prod (1.8.2), a
# registry holding the images 1.8.1 to 1.9.0 (tagged without a "v"), the
# helm chart in DIR/charts/web, and fake kubectl and helm in DIR/bin that
# keep the cluster's state in DIR/.cluster.
# Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
mkdir -p bin charts/web/templates .cluster/registry .cluster/ns

# ---- the chart -------------------------------------------------------------
cat >charts/web/Chart.yaml <<'EOF'
apiVersion: v2
name: web
description: The shop's web front end
type: application
version: 0.7.2
appVersion: "1.9.0"
EOF
cat >charts/web/values.yaml <<'EOF'
replicaCount: 3

image:
  repository: registry.example.com/shop/web
  tag: ""            # set with --set image.tag=X.Y.Z (no "v": CI pushes the bare version)
  pullPolicy: IfNotPresent

imagePullSecrets:
  - name: registry-shop

progressDeadlineSeconds: 45

resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    memory: 256Mi
EOF
cat >charts/web/templates/deployment.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  progressDeadlineSeconds: {{ .Values.progressDeadlineSeconds }}
  strategy:
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      app.kubernetes.io/name: web
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
        app.kubernetes.io/instance: {{ .Release.Name }}
    spec:
      serviceAccountName: web
      imagePullSecrets: {{ toYaml .Values.imagePullSecrets | nindent 8 }}
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ required "image.tag is required" .Values.image.tag }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 5
          resources: {{ toYaml .Values.resources | nindent 12 }}
EOF
cat >charts/web/templates/NOTES.txt <<'EOF'
web {{ .Values.image.tag }} is rolling out in namespace {{ .Release.Namespace }}.
Follow it with: kubectl rollout status deploy/web -n {{ .Release.Namespace }}
EOF

# ---- the cluster's state ---------------------------------------------------
printf '%s\n' 1.8.1 1.8.2 1.8.3 1.9.0 >.cluster/registry/shop-web.tags
echo shop-eu1 >.cluster/context
# One file per namespace: the helm release and the deployment's image tags
# (the one all ready pods run, and the one the latest revision asks for).
cat >.cluster/ns/staging.env <<'EOF'
revision=14
ready_tag=1.8.3
desired_tag=1.8.3
animate=0
EOF
cat >.cluster/ns/prod.env <<'EOF'
revision=9
ready_tag=1.8.2
desired_tag=1.8.2
animate=0
EOF
touch .cluster/ns/kube-system.env .cluster/ns/default.env

# ---- shared helpers for the fakes ------------------------------------------
cat >bin/.cluster-lib.sh <<'LIB'
# Sourced by the fake kubectl and helm.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="$root/.cluster"
repo=registry.example.com/shop/web
ns_exists() { [ -f "$state/ns/$1.env" ]; }
has_release() { [ -s "$state/ns/$1.env" ]; }
load_ns() { # sets revision ready_tag desired_tag animate
  revision=0 ready_tag="" desired_tag="" animate=0
  # shellcheck disable=SC1090
  . "$state/ns/$1.env"
}
save_ns() {
  printf 'revision=%s\nready_tag=%s\ndesired_tag=%s\nanimate=%s\n' \
    "$revision" "$ready_tag" "$desired_tag" "$animate" >"$state/ns/$1.env"
}
image_exists() { grep -qxF -- "$1" "$state/registry/shop-web.tags"; }
# pod-template-hash and pod suffixes, in Kubernetes' safe alphabet.
safe() { # safe LENGTH SEED
  local h alphabet=bcdfghjklmnpqrstvwxz2456789 out="" i c
  h=$(printf '%s' "$2" | sha256sum)
  for ((i = 0; i < $1; i++)); do
    c=$((16#${h:i*2:2} % 27))
    out+=${alphabet:c:1}
  done
  printf '%s' "$out"
}
rs_hash() { safe 10 "template:$1"; }
pod_node() { echo $(( 16#$(printf '%s' "$1" | sha256sum | cut -c1-2) % 3 + 1 )); }
pod_ip() { echo $(( 16#$(printf '%s' "$1" | sha256sum | cut -c3-4) % 200 + 20 )); }
pod_name() { printf 'web-%s-%s' "$(rs_hash "$2")" "$(safe 5 "pod:$1:$2:$3")"; } # ns tag n
LIB

# ---- helm ------------------------------------------------------------------
cat >bin/helm <<'FAKE'
#!/usr/bin/env bash
# A fake helm 3: upgrade [--install], list, history, version, against the
# state in DIR/.cluster. Output and errors are helm 3.16's.
. "$(dirname "$0")/.cluster-lib.sh"
ns=default
sets=()
pos=()
install=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--namespace) shift; ns=${1:-} ;;
    --namespace=*) ns=${1#*=} ;;
    --set) shift; sets+=("${1:-}") ;;
    --set=*) sets+=("${1#*=}") ;;
    -i|--install) install=1 ;;
    -f|--values) shift; [ -f "${1:-}" ] || { echo "Error: open ${1:-}: no such file or directory" >&2; exit 1; } ;;
    --wait|--atomic|--debug|--dry-run|--reuse-values|--reset-values) ;;
    --timeout) shift ;;
    --timeout=*|--version=*) ;;
    --version) shift ;;
    -*) echo "Error: unknown flag: $1" >&2; exit 1 ;;
    *) pos+=("$1") ;;
  esac
  shift
done
cmd=${pos[0]:-}
case "$cmd" in
  version)
    echo 'version.BuildInfo{Version:"v3.16.3", GitCommit:"cfd07493f46efc9debd9cc1b02a0961186df7fdf", GitTreeState:"clean", GoVersion:"go1.22.7"}'
    exit 0 ;;
  list|ls)
    printf '%-5s\t%-9s\t%-8s\t%-39s\t%-8s\t%-9s\t%s\n' NAME NAMESPACE REVISION UPDATED STATUS CHART "APP VERSION"
    if has_release "$ns"; then
      load_ns "$ns"
      printf '%-5s\t%-9s\t%-8s\t%-39s\t%-8s\t%-9s\t%s\n' web "$ns" "$revision" "$(date '+%Y-%m-%d %H:%M:%S.%N %z %Z')" deployed web-0.7.2 1.9.0
    fi
    exit 0 ;;
  history|hist)
    rel=${pos[1]:-}
    if [ "$rel" != web ] || ! has_release "$ns"; then echo "Error: release: not found" >&2; exit 1; fi
    load_ns "$ns"
    printf '%-8s\t%-24s\t%-10s\t%-9s\t%-11s\t%s\n' REVISION UPDATED STATUS CHART "APP VERSION" DESCRIPTION
    first=$((revision > 3 ? revision - 2 : 1))
    for ((r = first; r <= revision; r++)); do
      st=superseded; [ "$r" -eq "$revision" ] && st=deployed
      desc="Upgrade complete"; [ "$r" -eq 1 ] && desc="Install complete"
      printf '%-8s\t%-24s\t%-10s\t%-9s\t%-11s\t%s\n' "$r" "$(date '+%a %b %e %H:%M:%S %Y')" "$st" web-0.7.2 1.9.0 "$desc"
    done
    exit 0 ;;
  upgrade) ;;
  "") echo "The Kubernetes package manager" >&2; echo "Usage:  helm [command]" >&2; exit 1 ;;
  *) echo "Error: unknown command \"$cmd\" for \"helm\"" >&2; echo "Run 'helm --help' for usage." >&2; exit 1 ;;
esac

rel=${pos[1]:-}
chart=${pos[2]:-}
if [ -z "$rel" ] || [ -z "$chart" ]; then
  echo "Error: \"helm upgrade\" requires 2 arguments" >&2
  echo "" >&2
  echo "Usage:  helm upgrade [RELEASE] [CHART] [flags]" >&2
  exit 1
fi
if [ ! -f "$chart/Chart.yaml" ]; then
  echo "Error: path \"$chart\" not found" >&2
  exit 1
fi
if ! ns_exists "$ns"; then
  echo "Error: create: failed to create: namespaces \"$ns\" not found" >&2
  exit 1
fi
if ! has_release "$ns" && [ $install -eq 0 ]; then
  echo "Error: UPGRADE FAILED: \"$rel\" has no deployed releases" >&2
  exit 1
fi
load_ns "$ns"
tag=$desired_tag
for s in "${sets[@]}"; do
  IFS=, read -ra kvs <<<"$s"
  for kv in "${kvs[@]}"; do
    case "$kv" in
      image.tag=*) tag=${kv#image.tag=} ;;
    esac
  done
done
if [ -z "$tag" ]; then
  echo "Error: UPGRADE FAILED: execution error at (web/templates/deployment.yaml:29:35): image.tag is required" >&2
  exit 1
fi
revision=$((revision + 1))
desired_tag=$tag
animate=1
# A rollout whose image exists completes; one whose image is missing stays
# stuck on its first new pod while the old pods keep serving.
if image_exists "$tag"; then ready_tag=$tag; fi
save_ns "$ns"
echo "Release \"$rel\" has been upgraded. Happy Helming!"
echo "NAME: $rel"
echo "LAST DEPLOYED: $(date '+%a %b %e %H:%M:%S %Y')"
echo "NAMESPACE: $ns"
echo "STATUS: deployed"
echo "REVISION: $revision"
echo "TEST SUITE: None"
echo "NOTES:"
echo "web $tag is rolling out in namespace $ns."
echo "Follow it with: kubectl rollout status deploy/web -n $ns"
FAKE

# ---- kubectl ---------------------------------------------------------------
cat >bin/kubectl <<'FAKE'
#!/usr/bin/env bash
# A fake kubectl (v1.31) for the web deployment: config current-context,
# rollout status, get pods/deploy/events, describe pods, against the state in
# DIR/.cluster. Output and errors are kubectl's.
. "$(dirname "$0")/.cluster-lib.sh"
ns=default
selector=""
output=""
timeout=""
pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--namespace) shift; ns=${1:-} ;;
    --namespace=*|-n=*) ns=${1#*=} ;;
    -l|--selector) shift; selector=${1:-} ;;
    --selector=*|-l=*) selector=${1#*=} ;;
    -o|--output) shift; output=${1:-} ;;
    --output=*|-o=*) output=${1#*=} ;;
    -owide) output=wide ;;
    --timeout=*) timeout=${1#*=} ;;
    --timeout) shift; timeout=${1:-} ;;
    --context=*|-w|--watch|--watch=*|--no-headers) ;;
    --context) shift ;;
    -*) echo "error: unknown flag: $1" >&2; echo "See 'kubectl --help' for usage." >&2; exit 1 ;;
    *) pos+=("$1") ;;
  esac
  shift
done

notfound_deploy() { echo "Error from server (NotFound): deployments.apps \"${1:-web}\" not found" >&2; exit 1; }

# The pods of the deployment now: "name status ready age restarts tag"
pods() {
  local i
  load_ns "$ns"
  if [ "$ready_tag" = "$desired_tag" ]; then
    for i in 1 2 3; do echo "$(pod_name "$ns" "$ready_tag" "$i") Running 1/1 $((20 + i))s 0 $ready_tag"; done
  else
    for i in 1 2 3; do echo "$(pod_name "$ns" "$ready_tag" "$i") Running 1/1 6d 0 $ready_tag"; done
    echo "$(pod_name "$ns" "$desired_tag" 1) ImagePullBackOff 0/1 71s 0 $desired_tag"
  fi
}

describe_pod() { # name status ready age restarts tag
  local name=$1 status=$2 age=$4 tag=$6 hash ip node
  hash=$(rs_hash "$tag")
  node=node-$(pod_node "$name")
  ip=10.244.$(pod_node "$name").$(pod_ip "$name")
  echo "Name:             $name"
  echo "Namespace:        $ns"
  echo "Priority:         0"
  echo "Service Account:  web"
  echo "Node:             $node/10.0.1.1${node#node-}"
  local secs=${age%[sd]}
  case "$age" in *d) secs=$((secs * 86400)) ;; esac
  echo "Start Time:       $(date -d "-$secs seconds" '+%a, %d %b %Y %H:%M:%S %z')"
  echo "Labels:           app.kubernetes.io/instance=web"
  echo "                  app.kubernetes.io/name=web"
  echo "                  pod-template-hash=$hash"
  echo "Annotations:      <none>"
  if [ "$status" = Running ]; then echo "Status:           Running"; else echo "Status:           Pending"; fi
  echo "IP:               $ip"
  echo "IPs:"
  echo "  IP:           $ip"
  echo "Controlled By:  ReplicaSet/web-$hash"
  echo "Containers:"
  echo "  web:"
  if [ "$status" = Running ]; then
    echo "    Container ID:   containerd://$(printf '%s' "c:$name" | sha256sum | cut -c1-64)"
    echo "    Image:          $repo:$tag"
    echo "    Image ID:       $repo@sha256:$(printf '%s' "i:$tag" | sha256sum | cut -c1-64)"
  else
    echo "    Container ID:   "
    echo "    Image:          $repo:$tag"
    echo "    Image ID:       "
  fi
  echo "    Port:           8080/TCP"
  echo "    Host Port:      0/TCP"
  if [ "$status" = Running ]; then
    echo "    State:          Running"
    echo "      Started:      $(date '+%a, %d %b %Y %H:%M:%S %z')"
    echo "    Ready:          True"
  else
    echo "    State:          Waiting"
    echo "      Reason:       ImagePullBackOff"
    echo "    Ready:          False"
  fi
  echo "    Restart Count:  0"
  echo "    Limits:"
  echo "      memory:  256Mi"
  echo "    Requests:"
  echo "      cpu:        100m"
  echo "      memory:     128Mi"
  echo "    Readiness:    http-get http://:http/healthz delay=5s timeout=1s period=10s #success=1 #failure=3"
  echo "    Environment:  <none>"
  echo "    Mounts:"
  echo "      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-$(safe 5 "v:$name") (ro)"
  echo "Conditions:"
  echo "  Type                        Status"
  local r=True; [ "$status" = Running ] || r=False
  echo "  PodReadyToStartContainers   True "
  echo "  Initialized                 True "
  echo "  Ready                       $r "
  echo "  ContainersReady             $r "
  echo "  PodScheduled                True "
  echo "Volumes:"
  echo "  kube-api-access-$(safe 5 "v:$name"):"
  echo "    Type:                    Projected (a volume that contains injected data from multiple sources)"
  echo "    TokenExpirationSeconds:  3607"
  echo "    ConfigMapName:           kube-root-ca.crt"
  echo "    ConfigMapOptional:       <nil>"
  echo "    DownwardAPI:             true"
  echo "QoS Class:                   Burstable"
  echo "Node-Selectors:              <none>"
  echo "Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"
  echo "                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s"
  if [ "$status" = Running ]; then
    echo "Events:                      <none>"
  else
    local img="$repo:$tag"
    echo "Events:"
    echo "  Type     Reason     Age                From               Message"
    echo "  ----     ------     ----               ----               -------"
    echo "  Normal   Scheduled  71s                default-scheduler  Successfully assigned $ns/$name to $node"
    echo "  Normal   Pulling    29s (x3 over 70s)  kubelet            Pulling image \"$img\""
    echo "  Warning  Failed     28s (x3 over 69s)  kubelet            Failed to pull image \"$img\": rpc error: code = NotFound desc = failed to pull and unpack image \"$img\": failed to resolve reference \"$img\": $img: not found"
    echo "  Warning  Failed     28s (x3 over 69s)  kubelet            Error: ErrImagePull"
    echo "  Normal   BackOff    3s (x4 over 68s)   kubelet            Back-off pulling image \"$img\""
    echo "  Warning  Failed     3s (x4 over 68s)   kubelet            Error: ImagePullBackOff"
  fi
}

selector_ok() { # the web pods carry app.kubernetes.io/name=web and instance=web
  [ -z "$selector" ] && return 0
  local part
  IFS=, read -ra parts <<<"$selector"
  for part in "${parts[@]}"; do
    case "$part" in
      app.kubernetes.io/name=web|app.kubernetes.io/instance=web|app=web) ;;
      *) return 1 ;;
    esac
  done
}

resource_kind() {
  case "$1" in
    po|pod|pods) echo pods ;;
    deploy|deployment|deployments|deployment.apps|deployments.apps) echo deployments ;;
    ev|event|events) echo events ;;
    ns|namespace|namespaces) echo namespaces ;;
    *) echo unknown ;;
  esac
}

cmd=${pos[0]:-}
case "$cmd" in
  config)
    case "${pos[1]:-}" in
      current-context) cat "$state/context" ;;
      get-contexts)
        printf '%-9s %-10s %-10s %-12s %s\n' CURRENT NAME CLUSTER AUTHINFO NAMESPACE
        printf '%-9s %-10s %-10s %-12s %s\n' '*' "$(cat "$state/context")" "$(cat "$state/context")" ops-admin "" ;;
      *) echo "error: unknown command \"${pos[1]:-}\" for \"kubectl config\"" >&2; exit 1 ;;
    esac ;;
  version)
    echo "Client Version: v1.31.2"
    echo "Kustomize Version: v5.4.2"
    echo "Server Version: v1.30.6" ;;
  rollout)
    [ "${pos[1]:-}" = status ] || { echo "error: unknown command \"${pos[1]:-}\" for \"kubectl rollout\"" >&2; exit 1; }
    target=${pos[2]:-}
    case "$target" in
      deploy/web|deployment/web|deployments/web|deployment.apps/web) ;;
      deploy/*|deployment/*|deployments/*|deployment.apps/*) notfound_deploy "${target#*/}" ;;
      "") echo "error: required resource not specified" >&2; exit 1 ;;
      *) echo "error: no kind \"${target%%/*}\" is registered for version \"apps/v1\"" >&2; exit 1 ;;
    esac
    has_release "$ns" || notfound_deploy web
    load_ns "$ns"
    if [ "$ready_tag" != "$desired_tag" ]; then
      echo "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated..."
      sleep 2
      echo "error: deployment \"web\" exceeded its progress deadline" >&2
      exit 1
    fi
    if [ "$animate" = 1 ]; then
      echo "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated..."
      sleep 0.6
      echo "Waiting for deployment \"web\" rollout to finish: 2 out of 3 new replicas have been updated..."
      sleep 0.6
      echo "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination..."
      sleep 0.6
      animate=0
      save_ns "$ns"
    fi
    echo "deployment \"web\" successfully rolled out" ;;
  get)
    kind=$(resource_kind "${pos[1]:-}")
    name=${pos[2]:-}
    case "$kind" in
      pods)
        ns_exists "$ns" || { echo "No resources found in $ns namespace."; exit 0; }
        if ! has_release "$ns" || ! selector_ok; then echo "No resources found in $ns namespace."; exit 0; fi
        found=0
        wide_fmt='%-20s   %-5s   %-16s   %-8s   %-3s   %-12s   %-6s   %-14s   %s\n'
        fmt='%-20s   %-5s   %-16s   %-8s   %s\n'
        # shellcheck disable=SC2059
        if [ "$output" = wide ]; then printf "$wide_fmt" NAME READY STATUS RESTARTS AGE IP NODE "NOMINATED NODE" "READINESS GATES"
        else printf "$fmt" NAME READY STATUS RESTARTS AGE; fi
        while read -r p st rd age rs tag; do
          if [ -n "$name" ] && [ "$name" != "$p" ]; then continue; fi
          found=1
          if [ "$output" = wide ]; then
            # shellcheck disable=SC2059
            printf "$wide_fmt" "$p" "$rd" "$st" "$rs" "$age" "10.244.$(pod_node "$p").$(pod_ip "$p")" "node-$(pod_node "$p")" '<none>' '<none>'
          else
            # shellcheck disable=SC2059
            printf "$fmt" "$p" "$rd" "$st" "$rs" "$age"
          fi
        done < <(pods | sort)
        if [ -n "$name" ] && [ $found = 0 ]; then echo "Error from server (NotFound): pods \"$name\" not found" >&2; exit 1; fi ;;
      deployments)
        if [ -n "$name" ] && [ "$name" != web ]; then notfound_deploy "$name"; fi
        ns_exists "$ns" && has_release "$ns" || { [ -n "$name" ] && notfound_deploy web; echo "No resources found in $ns namespace."; exit 0; }
        load_ns "$ns"
        uptodate=3; [ "$ready_tag" != "$desired_tag" ] && uptodate=1
        if [ "$output" = wide ]; then
          printf '%-4s   %-5s   %-10s   %-9s   %-3s   %-10s   %-36s   %s\n' NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR
          printf '%-4s   %-5s   %-10s   %-9s   %-3s   %-10s   %-36s   %s\n' web 3/3 $uptodate 3 41d web "$repo:$desired_tag" app.kubernetes.io/instance=web,app.kubernetes.io/name=web
        else
          printf '%-4s   %-5s   %-10s   %-9s   %s\n' NAME READY UP-TO-DATE AVAILABLE AGE
          printf '%-4s   %-5s   %-10s   %-9s   %s\n' web 3/3 $uptodate 3 41d
        fi ;;
      events)
        load_ns "$ns"
        if has_release "$ns" && [ "$ready_tag" != "$desired_tag" ]; then
          p=$(pod_name "$ns" "$desired_tag" 1)
          img="$repo:$desired_tag"
          printf '%-9s   %-7s   %-17s   %-34s   %s\n' "LAST SEEN" TYPE REASON OBJECT MESSAGE
          printf '%-9s   %-7s   %-17s   %-34s   %s\n' 71s Normal ScalingReplicaSet deployment/web "Scaled up replica set web-$(rs_hash "$desired_tag") to 1"
          printf '%-9s   %-7s   %-17s   %-34s   %s\n' 28s Warning Failed "pod/$p" "Failed to pull image \"$img\": rpc error: code = NotFound desc = failed to pull and unpack image \"$img\": failed to resolve reference \"$img\": $img: not found"
          printf '%-9s   %-7s   %-17s   %-34s   %s\n' 3s Warning Failed "pod/$p" "Error: ImagePullBackOff"
        else
          echo "No resources found in $ns namespace."
        fi ;;
      namespaces)
        printf '%-15s %-6s %s\n' NAME STATUS AGE
        for f in "$state"/ns/*.env; do n=$(basename "$f" .env); printf '%-15s %-6s %s\n' "$n" Active 212d; done ;;
      *) echo "error: the server doesn't have a resource type \"${pos[1]:-}\"" >&2; exit 1 ;;
    esac ;;
  describe)
    kind=$(resource_kind "${pos[1]:-}")
    name=${pos[2]:-}
    [ "$kind" = pods ] || { echo "error: the server doesn't have a resource type \"${pos[1]:-}\"" >&2; exit 1; }
    if ! ns_exists "$ns" || ! has_release "$ns" || ! selector_ok; then
      [ -n "$name" ] && { echo "Error from server (NotFound): pods \"$name\" not found" >&2; exit 1; }
      echo "No resources found in $ns namespace."; exit 0
    fi
    found=0
    first=1
    while read -r p st rd age rs tag; do
      if [ -n "$name" ] && [ "$name" != "$p" ]; then continue; fi
      found=1
      [ $first = 1 ] || echo
      first=0
      describe_pod "$p" "$st" "$rd" "$age" "$rs" "$tag"
    done < <(pods | sort)
    if [ -n "$name" ] && [ $found = 0 ]; then echo "Error from server (NotFound): pods \"$name\" not found" >&2; exit 1; fi ;;
  "") echo "kubectl controls the Kubernetes cluster manager." >&2; exit 1 ;;
  *) echo "error: unknown command \"$cmd\" for \"kubectl\"" >&2; exit 1 ;;
esac
FAKE
chmod +x bin/helm bin/kubectl
echo "scenario ready in $dir"
