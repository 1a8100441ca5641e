#!/usr/bin/env bash
# World for terraform-change: the web stack's Terraform code in DIR/infra
# (S3 backend with a DynamoDB lock table, one state per environment), a
# reviewed change waiting to be applied (1 bucket to add, the load balancer
# and its security group to change), and a CI drift check that grabs the
# state lock between the operator's plan and apply and dies holding it.
# Fake terraform and gh in DIR/bin keep the remote side in DIR/.world.
# Usage: env=staging lock=<uuid> setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
env=${env:?the run variable env must be set}
lock=${lock:?the run variable lock (the stale lock id) must be set}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
mkdir -p bin infra/backends .world/state .world/locks

# ---- the code ----------------------------------------------------------------
cat >infra/versions.tf <<'EOF'
terraform {
  required_version = "~> 1.9"

  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { service = "web", env = var.env }
  }
}
EOF
cat >infra/variables.tf <<'EOF'
variable "env" {
  type        = string
  description = "The environment: staging or prod."
  validation {
    condition     = contains(["staging", "prod"], var.env)
    error_message = "env must be staging or prod."
  }
}
EOF
cat >infra/main.tf <<'EOF'
data "aws_vpc" "main" {
  tags = { Name = "shop-${var.env}" }
}

resource "aws_s3_bucket" "access_logs" {
  bucket = "shop-web-access-logs-${var.env}"
}

resource "aws_security_group" "web" {
  name   = "web-${var.env}"
  vpc_id = data.aws_vpc.main.id

  ingress {
    description = "HTTPS from the load balancers"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.main.cidr_block]
  }
  ingress {
    description = "HTTPS from the office VPN"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.20.0.0/16"]
  }
}

resource "aws_lb" "web" {
  name            = "web-${var.env}"
  security_groups = [aws_security_group.web.id]
  idle_timeout    = 120

  access_logs {
    bucket  = aws_s3_bucket.access_logs.id
    prefix  = "alb"
    enabled = true
  }
}
EOF
cat >infra/outputs.tf <<'EOF'
output "lb_dns_name" {
  value = aws_lb.web.dns_name
}

output "access_logs_bucket" {
  value = aws_s3_bucket.access_logs.id
}
EOF
for e in staging prod; do
  cat >"infra/backends/$e.hcl" <<EOF
bucket         = "shop-tfstate"
key            = "web/$e/terraform.tfstate"
region         = "eu-west-1"
dynamodb_table = "shop-tf-locks"
encrypt        = true
EOF
done

# ---- the remote side -------------------------------------------------------------
# State serial per environment; "applied" says whether this change is in.
for e in staging prod; do printf 'serial=%s\napplied=0\n' "$(( ${#e} * 7 + 31 ))" >".world/state/$e"; done
# The drift check that will start after the plan and die holding the lock.
ci_run=$(( 11937300000 + $(printf '%s' "$env" | cksum | cut -d' ' -f1) % 90000 ))
printf 'env=%s\nid=%s\nci_run=%s\n' "$env" "$lock" "$ci_run" >.world/ci-takes-lock-on-apply
# CI's run history: id, conclusion, elapsed, start (epoch). Newest last.
now=$(date +%s)
{
  printf '%s X 1m12s %s\n' $(( ci_run - 33102 )) $(( now - 3 * 86400 - 420 ))
  printf '%s ✓ 1m4s %s\n' $(( ci_run - 32871 )) $(( now - 2 * 86400 - 240 ))
  printf '%s ✓ 58s %s\n' $(( ci_run - 16207 )) $(( now - 86400 - 300 ))
} >.world/ci-runs

# ---- shared helpers ----------------------------------------------------------------
cat >bin/.world-lib.sh <<'LIB'
# Sourced by the fake terraform and gh.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
world="$root/.world"
h() { printf '%s' "$1" | sha256sum | cut -c1-"$2"; }
num() { echo $(( 16#$(h "$1" 8) % $2 )); }
ago() { # seconds → gh's "about N minutes ago"
  local s=$1
  if [ "$s" -lt 60 ]; then echo "less than a minute ago"
  elif [ "$s" -lt 120 ]; then echo "about 1 minute ago"
  elif [ "$s" -lt 3600 ]; then echo "about $((s / 60)) minutes ago"
  elif [ "$s" -lt 7200 ]; then echo "about 1 hour ago"
  elif [ "$s" -lt 86400 ]; then echo "about $((s / 3600)) hours ago"
  elif [ "$s" -lt 172800 ]; then echo "about 1 day ago"
  else echo "about $((s / 86400)) days ago"; fi
}
LIB

# ---- terraform -----------------------------------------------------------------------
cat >bin/terraform <<'FAKE'
#!/usr/bin/env bash
# A fake terraform 1.9.8 for the web stack: version, init, plan, apply,
# output, force-unlock, validate, against the remote state in DIR/.world.
# Output, errors and exit codes are terraform's.
. "$(dirname "$0")/.world-lib.sh"
box() { # a diagnostic box: box Error|Warning "summary" lines...
  local kind=$1 summary=$2
  shift 2
  echo "╷" >&2
  echo "│ $kind: $summary" >&2
  echo "│ " >&2
  local l
  for l in "$@"; do echo "│ $l" >&2; done
  echo "╵" >&2
}
need_config() {
  ls ./*.tf >/dev/null 2>&1 || {
    box Error "No configuration files" "Apply requires configuration to be present. Applying without a configuration" "would mark everything for destruction, which is normally not what is desired." "If you would like to destroy everything, run 'terraform destroy' instead."
    exit 1
  }
}
need_init() {
  if [ ! -f .terraform/terraform.tfstate ]; then
    box Error 'Backend initialization required, please run "terraform init"' \
      'Reason: Initial configuration of the requested backend "s3"' "" \
      'The "backend" is the interface that Terraform uses to store state,' \
      'perform operations, etc. If this message is showing up, it means that the' \
      'Terraform configuration you'"'"'re using is using a custom configuration for' \
      'the Terraform backend.' "" \
      'Changes to backend configurations require reinitialization. This allows' \
      'Terraform to set up the new configuration, copy existing state, etc. Please run' \
      '"terraform init" with either the "-reconfigure" or "-migrate-state" flags to' \
      'use the current configuration.' "" \
      'If the change reason above is incorrect, please verify your configuration' \
      'hasn'"'"'t changed and try again. At this point, no changes to your existing' \
      'configuration or state have been performed.'
    exit 1
  fi
  backend_env=$(sed -n 's/^env=//p' .terraform/terraform.tfstate)
  statepath="shop-tfstate/web/$backend_env/terraform.tfstate"
}
load_state() { serial=0 applied=0; . "$world/state/$backend_env"; }
save_state() { printf 'serial=%s\napplied=%s\n' "$serial" "$applied" >"$world/state/$backend_env"; }
ids() { # per-environment ids
  sg="sg-0$(h "sg:$1" 16)"
  lbarn="arn:aws:elasticloadbalancing:eu-west-1:412345678901:loadbalancer/app/web-$1/$(h "lb:$1" 16)"
  dns="web-$1-$(( 1000000000 + $(num "dns:$1" 999999999) )).eu-west-1.elb.amazonaws.com"
  vpc="vpc-0$(h "vpc:$1" 16)"
}
lock_error() {
  local id who op created
  id=$(sed -n 's/^id=//p' "$1"); who=$(sed -n 's/^who=//p' "$1")
  op=$(sed -n 's/^op=//p' "$1"); created=$(sed -n 's/^created=//p' "$1")
  box Error "Error acquiring the state lock" \
    "Error message: operation error DynamoDB: PutItem, https response error" \
    "StatusCode: 400, RequestID: $(h "req:$id:$$" 32 | tr a-f A-F | cut -c1-26)," \
    "ConditionalCheckFailedException: The conditional request failed" \
    "Lock Info:" \
    "  ID:        $id" \
    "  Path:      $statepath" \
    "  Operation: $op" \
    "  Who:       $who" \
    "  Version:   1.9.8" \
    "  Created:   $(date -u -d "@$created" '+%Y-%m-%d %H:%M:%S.%N +0000 UTC')" \
    "  Info:      " "" "" \
    "Terraform acquires a state lock to protect the state from being written" \
    "by multiple users at the same time. Please resolve the issue above and try" \
    "again. For most commands, you can disable locking with the \"-lock=false\"" \
    "flag, but this is not recommended."
}
acquire_lock() { # exit 1 when someone holds the lock
  local f="$world/locks/$backend_env"
  echo "Acquiring state lock. This may take a few moments..."
  if [ -f "$f" ]; then lock_error "$f"; exit 1; fi
}
show_plan() { # the plan for environment $1, given $applied
  local e=$1
  if [ "$applied" = 1 ]; then
    echo "No changes. Your infrastructure matches the configuration."
    echo
    echo "Terraform has compared your real infrastructure against your configuration"
    echo "and found no differences, so no changes are needed."
    return
  fi
  cat <<PLAN
Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place

Terraform will perform the following actions:

  # aws_lb.web will be updated in-place
  ~ resource "aws_lb" "web" {
        id                                          = "$lbarn"
      ~ idle_timeout                                = 60 -> 120
        name                                        = "web-$e"
        tags                                        = {
            "env"     = "$e"
            "service" = "web"
        }
        # (21 unchanged attributes hidden)

      ~ access_logs {
          + bucket  = "shop-web-access-logs-$e"
          ~ enabled = false -> true
          + prefix  = "alb"
        }

        # (1 unchanged block hidden)
    }

  # aws_s3_bucket.access_logs will be created
  + resource "aws_s3_bucket" "access_logs" {
      + acceleration_status         = (known after apply)
      + acl                         = (known after apply)
      + arn                         = (known after apply)
      + bucket                      = "shop-web-access-logs-$e"
      + bucket_domain_name          = (known after apply)
      + bucket_prefix               = (known after apply)
      + bucket_regional_domain_name = (known after apply)
      + force_destroy               = false
      + hosted_zone_id              = (known after apply)
      + id                          = (known after apply)
      + object_lock_enabled         = (known after apply)
      + policy                      = (known after apply)
      + region                      = (known after apply)
      + request_payer               = (known after apply)
      + tags_all                    = {
          + "env"     = "$e"
          + "service" = "web"
        }
      + website_domain              = (known after apply)
      + website_endpoint            = (known after apply)
    }

  # aws_security_group.web will be updated in-place
  ~ resource "aws_security_group" "web" {
        id                     = "$sg"
      ~ ingress                = [
          + {
              + cidr_blocks      = [
                  + "10.20.0.0/16",
                ]
              + description      = "HTTPS from the office VPN"
              + from_port        = 443
              + ipv6_cidr_blocks = []
              + prefix_list_ids  = []
              + protocol         = "tcp"
              + security_groups  = []
              + self             = false
              + to_port          = 443
            },
            # (1 unchanged element hidden)
        ]
        name                   = "web-$e"
        tags                   = {
            "env"     = "$e"
            "service" = "web"
        }
        # (8 unchanged attributes hidden)
    }

Plan: 1 to add, 2 to change, 0 to destroy.

Changes to Outputs:
  + access_logs_bucket = "shop-web-access-logs-$e"
PLAN
}
release_lock() { echo "Releasing state lock. This may take a few moments..."; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  version|-version|--version|-v)
    echo "Terraform v1.9.8"
    echo "on linux_amd64"
    [ -d .terraform/providers ] && echo "+ provider registry.terraform.io/hashicorp/aws v5.74.0"
    exit 0 ;;

  init)
    need_config
    bcfg=""
    for a in "$@"; do
      case "$a" in
        -backend-config=*) bcfg=${a#-backend-config=} ;;
        -reconfigure|-input=false|-upgrade|-no-color|-migrate-state) ;;
        *) echo "Error parsing command-line flags: flag provided but not defined: ${a%%=*}" >&2; exit 1 ;;
      esac
    done
    if [ -z "$bcfg" ]; then
      echo
      echo "Initializing the backend..."
      box Error 'Missing required argument' \
        'The argument "bucket" is required, but no definition was found.'
      exit 1
    fi
    if [ ! -f "$bcfg" ]; then
      box Error "Failed to read file" "The file \"$bcfg\" could not be read."
      exit 1
    fi
    key=$(sed -n 's/^key *= *"\(.*\)"/\1/p' "$bcfg")
    benv=$(echo "$key" | cut -d/ -f2)
    mkdir -p .terraform/providers/registry.terraform.io/hashicorp/aws/5.74.0/linux_amd64
    printf 'backend=s3\nenv=%s\nkey=%s\n' "$benv" "$key" >.terraform/terraform.tfstate
    echo "Initializing the backend..."
    echo
    echo "Successfully configured the backend \"s3\"! Terraform will automatically"
    echo "use this backend unless the backend configuration changes."
    echo "Initializing provider plugins..."
    echo "- Finding hashicorp/aws versions matching \"~> 5.70\"..."
    sleep 0.5
    echo "- Installing hashicorp/aws v5.74.0..."
    sleep 0.5
    echo "- Installed hashicorp/aws v5.74.0 (signed by HashiCorp)"
    if [ ! -f .terraform.lock.hcl ]; then
      printf '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n\nprovider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.74.0"\n  constraints = "~> 5.70"\n}\n' >.terraform.lock.hcl
      echo "Terraform has created a lock file .terraform.lock.hcl to record the provider"
      echo "selections it made above. Include this file in your version control repository"
      echo "so that Terraform can guarantee to make the same selections by default when"
      echo "you run \"terraform init\" in the future."
    fi
    echo
    echo "Terraform has been successfully initialized!"
    echo
    echo "You may now begin working with Terraform. Try running \"terraform plan\" to see"
    echo "any changes that are required for your infrastructure. All Terraform commands"
    echo "should now work."
    echo
    echo "If you ever set or change modules or backend configuration for Terraform,"
    echo "rerun this command to reinitialize your working directory. If you forget, other"
    echo "commands will detect it and remind you to do so if necessary."
    exit 0 ;;

  plan)
    need_config
    out="" var_env=""
    while [ $# -gt 0 ]; do
      case "$1" in
        -out=*) out=${1#-out=} ;;
        -out) shift; out=${1:-} ;;
        -var) shift; case "${1:-}" in env=*) var_env=${1#env=} ;; *) box Error "Value for undeclared variable" "A variable named \"${1%%=*}\" was assigned on the command line, but the root" "module does not declare a variable of that name."; exit 1 ;; esac ;;
        -var=env=*) var_env=${1#-var=env=} ;;
        -input=false|-no-color|-lock=true) ;;
        *) echo "Error parsing command-line flags: flag provided but not defined: ${1%%=*}" >&2; exit 1 ;;
      esac
      shift
    done
    need_init
    if [ -z "$var_env" ]; then
      box Error "No value for required variable" '  on variables.tf line 1:' '   1: variable "env" {' "" \
        'The root module input variable "env" is not set, and has no default value.' \
        'Use a -var or -var-file command line argument to provide a value for this' 'variable.'
      exit 1
    fi
    case "$var_env" in staging|prod) ;; *)
      box Error "Invalid value for variable" '  on variables.tf line 1:' '   1: variable "env" {' '    ├────────────────' "    │ var.env is \"$var_env\"" "" 'env must be staging or prod.' "" \
        'This was checked by the validation rule at variables.tf:4,3-13.'
      exit 1 ;;
    esac
    acquire_lock
    load_state
    e=$var_env
    ids "$e"
    echo "data.aws_vpc.main: Reading..."
    if [ "$applied" = 1 ]; then echo "aws_s3_bucket.access_logs: Refreshing state... [id=shop-web-access-logs-$e]"; fi
    echo "aws_security_group.web: Refreshing state... [id=$sg]"
    sleep 0.4
    echo "data.aws_vpc.main: Read complete after 1s [id=$vpc]"
    echo "aws_lb.web: Refreshing state... [id=$lbarn]"
    sleep 0.4
    echo
    show_plan "$e"
    echo
    echo "─────────────────────────────────────────────────────────────────────────────"
    echo
    if [ -n "$out" ]; then
      printf 'env=%s\nserial=%s\nchanges=%s\n' "$e" "$serial" "$((1 - applied))" >"$out"
      echo "Saved the plan to: $out"
      echo
      echo "To perform exactly these actions, run the following command to apply:"
      echo "    terraform apply \"$out\""
    else
      echo "Note: You didn't use the -out option to save this plan, so Terraform can't"
      echo "guarantee to take exactly these actions if you run \"terraform apply\" now."
    fi
    release_lock
    exit 0 ;;

  apply)
    need_config
    planfile=""
    for a in "$@"; do
      case "$a" in
        -input=false|-no-color|-auto-approve) ;;
        -*) echo "Error parsing command-line flags: flag provided but not defined: ${a%%=*}" >&2; exit 1 ;;
        *) planfile=$a ;;
      esac
    done
    if [ -z "$planfile" ]; then
      # No saved plan: plan now and ask, as terraform does.
      need_init
      acquire_lock
      load_state
      ids "$backend_env"
      show_plan "$backend_env"
      if [ "$applied" = 1 ]; then release_lock; echo; echo "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."; exit 0; fi
      echo
      echo "Do you want to perform these actions?"
      echo "  Terraform will perform the actions described above."
      echo "  Only 'yes' will be accepted to approve."
      echo
      printf '  Enter a value: '
      read -r answer
      if [ "$answer" != yes ]; then
        echo; echo "Apply cancelled."; release_lock; exit 1
      fi
      planfile=$(mktemp)
      printf 'env=%s\nserial=%s\nchanges=1\n' "$backend_env" "$serial" >"$planfile"
    fi
    if [ ! -f "$planfile" ]; then
      box Error "Failed to load \"$planfile\" as a plan file" "Error: stat $planfile: no such file or directory"
      exit 1
    fi
    need_init
    # The scheduled drift check starts now, takes the lock, and its runner dies.
    trig="$world/ci-takes-lock-on-apply"
    if [ -f "$trig" ] && [ "$(sed -n 's/^env=//p' "$trig")" = "$backend_env" ]; then
      now=$(date +%s)
      printf 'id=%s\nwho=runner@gh-runner-14\nop=OperationTypePlan\ncreated=%s.%09d\nci_run=%s\n' \
        "$(sed -n 's/^id=//p' "$trig")" "$((now - 41))" "$(( 16#$(h "ns:$now" 7) % 1000000000 ))" \
        "$(sed -n 's/^ci_run=//p' "$trig")" >"$world/locks/$backend_env"
      echo "$(sed -n 's/^ci_run=//p' "$trig") X 31s $((now - 41))" >>"$world/ci-runs"
      rm -f "$trig"
    fi
    acquire_lock
    load_state
    e=$(sed -n 's/^env=//p' "$planfile")
    pserial=$(sed -n 's/^serial=//p' "$planfile")
    changes=$(sed -n 's/^changes=//p' "$planfile")
    if [ "$pserial" != "$serial" ]; then
      release_lock
      box Error "Saved plan is stale" "The given plan file can no longer be applied because the state was changed" "by another operation after the plan was created."
      exit 1
    fi
    ids "$e"
    if [ "$changes" = 1 ]; then
      echo "aws_s3_bucket.access_logs: Creating..."
      echo "aws_security_group.web: Modifying... [id=$sg]"
      sleep 0.5
      echo "aws_security_group.web: Modifications complete after 1s [id=$sg]"
      sleep 0.5
      echo "aws_s3_bucket.access_logs: Creation complete after 2s [id=shop-web-access-logs-$e]"
      echo "aws_lb.web: Modifying... [id=$lbarn]"
      sleep 0.5
      echo "aws_lb.web: Modifications complete after 2s [id=$lbarn]"
      applied=1
      serial=$((serial + 1))
      save_state
    fi
    release_lock
    echo
    if [ "$changes" = 1 ]; then
      echo "Apply complete! Resources: 1 added, 2 changed, 0 destroyed."
    else
      echo "Apply complete! Resources: 0 added, 0 changed, 0 destroyed."
    fi
    echo
    echo "Outputs:"
    echo
    echo "access_logs_bucket = \"shop-web-access-logs-$e\""
    echo "lb_dns_name = \"$dns\""
    exit 0 ;;

  output)
    need_init
    load_state
    ids "$backend_env"
    name="" raw=0
    for a in "$@"; do case "$a" in -raw) raw=1 ;; -json|-no-color) ;; *) name=$a ;; esac; done
    bucket=""; [ "$applied" = 1 ] && bucket="shop-web-access-logs-$backend_env"
    case "$name" in
      "") [ -n "$bucket" ] && echo "access_logs_bucket = \"$bucket\""; echo "lb_dns_name = \"$dns\"" ;;
      lb_dns_name) if [ $raw = 1 ]; then printf '%s' "$dns"; else echo "\"$dns\""; fi ;;
      access_logs_bucket)
        if [ -z "$bucket" ]; then
          box Error "Output \"access_logs_bucket\" not found" "The output variable requested could not be found in the state file. If you" "recently added this to your configuration, be sure to run \`terraform apply\`," "since the state won't be updated with new output variables until that command" "is run."
          exit 1
        fi
        if [ $raw = 1 ]; then printf '%s' "$bucket"; else echo "\"$bucket\""; fi ;;
      *) box Error "Output \"$name\" not found" "The output variable requested could not be found in the state file. If you" "recently added this to your configuration, be sure to run \`terraform apply\`," "since the state won't be updated with new output variables until that command" "is run."; exit 1 ;;
    esac
    exit 0 ;;

  force-unlock)
    force=0 id=""
    for a in "$@"; do case "$a" in -force) force=1 ;; -*) echo "Error parsing command-line flags: flag provided but not defined: $a" >&2; exit 1 ;; *) id=$a ;; esac; done
    if [ -z "$id" ]; then
      echo "Expected a single argument: LOCK_ID" >&2
      exit 1
    fi
    need_init
    f="$world/locks/$backend_env"
    if [ ! -f "$f" ]; then
      box Error "Failed to unlock state: failed to retrieve lock info for lock ID \"$id\": no lock info found for: \"$statepath\""
      exit 1
    fi
    held=$(sed -n 's/^id=//p' "$f")
    if [ "$held" != "$id" ]; then
      box Error "Failed to unlock state: lock ID \"$id\" does not match existing lock ID \"$held\""
      exit 1
    fi
    if [ $force = 0 ]; then
      echo "Do you really want to force-unlock?"
      echo "  Terraform will remove the lock on the remote state."
      echo "  This will allow local Terraform commands to modify this state, even though it"
      echo "  may still be in use. Only 'yes' will be accepted to confirm."
      echo
      printf '  Enter a value: '
      read -r answer
      echo
      if [ "$answer" != yes ]; then
        echo "force-unlock cancelled."
        exit 1
      fi
    fi
    rm -f "$f"
    echo "Terraform state has been successfully unlocked!"
    echo
    echo "The state has been unlocked, and Terraform commands should now be able to"
    echo "obtain a new lock on the remote state."
    exit 0 ;;

  validate)
    need_init
    echo "Success! The configuration is valid."
    exit 0 ;;

  fmt) exit 0 ;;

  "")
    echo "Usage: terraform [global options] <subcommand> [args]" >&2
    exit 127 ;;

  *)
    echo "Terraform has no command named \"$cmd\"." >&2
    echo >&2
    echo "To see all of Terraform's top-level commands, run:" >&2
    echo "  terraform -help" >&2
    echo >&2
    exit 1 ;;
esac
FAKE

# ---- gh --------------------------------------------------------------------------------
cat >bin/gh <<'FAKE'
#!/usr/bin/env bash
# A fake gh 2.62 for shop/infra's workflow runs: run list, run view.
. "$(dirname "$0")/.world-lib.sh"
now=$(date +%s)
# The runs of the drift check, newest first: "id status elapsed age env".
runs() {
  local e
  e=$(sed -n 's/^env=//p' .terraform/terraform.tfstate 2>/dev/null || true)
  [ -n "$e" ] || e=$(sed -n 's/^env=//p' "$world/ci-takes-lock-on-apply" 2>/dev/null || true)
  [ -n "$e" ] || e=staging
  tac "$world/ci-runs" | while read -r id st el start; do
    echo "$id $st $el $((now - ${start%.*})) $e"
  done
}
sub="${1:-} ${2:-}"
shift 2 2>/dev/null || true
case "$sub" in
  "run list"|"run ls")
    limit=20 wf=""
    while [ $# -gt 0 ]; do
      case "$1" in
        -L|--limit) shift; limit=${1:-20} ;;
        --limit=*) limit=${1#*=} ;;
        -w|--workflow) shift; wf=${1:-} ;;
        --workflow=*) wf=${1#*=} ;;
        -R|--repo) shift ;;
        *) echo "unknown flag: $1" >&2; exit 1 ;;
      esac
      shift
    done
    case "$wf" in ""|drift-check|drift-check.yml|"Nightly drift check") ;; *)
      echo "could not find any workflows named $wf" >&2; exit 1 ;;
    esac
    # STATUS holds one (possibly multibyte) symbol: pad it by hand.
    printf 'STATUS  %-11s  %-11s  %-6s  %-8s  %-11s  %-7s  %s\n' TITLE WORKFLOW BRANCH EVENT ID ELAPSED AGE
    runs | head -n "$limit" | while read -r id st el age e; do
      printf '%s       %-11s  %-11s  %-6s  %-8s  %-11s  %-7s  %s\n' "$st" "drift check" drift-check main schedule "$id" "$el" "$(ago "$age")"
    done ;;
  "run view")
    id=${1:-}
    line=$(runs | awk -v id="$id" '$1 == id')
    if [ -z "$id" ] || [ -z "$line" ]; then
      echo "HTTP 404: Not Found (https://api.github.com/repos/shop/infra/actions/runs/$id)" >&2
      exit 1
    fi
    read -r id st el age e <<<"$line"
    echo
    echo "$st main drift check · $id"
    echo "Triggered via schedule $(ago "$age")"
    echo
    echo "JOBS"
    if [ "$st" = X ]; then
      echo "X plan ($e) in $el (ID $((id * 3 + 7)))"
      echo "  ✓ Set up job"
      echo "  ✓ Run actions/checkout@v4"
      echo "  ✓ Run hashicorp/setup-terraform@v3"
      echo "  ✓ Run terraform init -backend-config=backends/$e.hcl"
      echo "  X Run terraform plan -detailed-exitcode -var env=$e"
      echo "  - Post Run actions/checkout@v4"
      echo
      echo "ANNOTATIONS"
      echo "X The runner has received a shutdown signal. This can happen when the runner service is stopped, or a manually started runner is canceled."
      echo "plan ($e): .github#17"
      echo
      echo
      echo "To see what failed, try: gh run view $id --log-failed"
    else
      echo "✓ plan ($e) in $el (ID $((id * 3 + 7)))"
      echo
      echo "For more information about a job, try: gh run view --job=<job-id>"
    fi
    echo "View this run on GitHub: https://github.com/shop/infra/actions/runs/$id" ;;
  *)
    echo "unknown command \"${sub% }\" for \"gh\"" >&2
    exit 1 ;;
esac
FAKE
chmod +x bin/terraform bin/gh
echo "scenario ready in $dir"
