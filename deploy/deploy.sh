#!/usr/bin/env bash
# Deploy ma5zani Bot to one or more servers over SSH.
#
#   deploy/deploy.sh [--dry-run] [--ref REF] [--roles web,worker,replies,beat,whatsapp] [--gateways N] HOST...
#
# On each host: fetch REF into a new release folder, install the pinned requirements into the
# shared virtual environment, then (on the first host only) migrate every schema; collect static
# files, compile translations, switch the `current` link and restart the units of the roles asked
# for. WhatsApp gateways restart one at a time: a gateway stopping releases its leases and the
# others take its sellers over before the next one stops. --dry-run prints every command instead
# of running it.
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

DRY_RUN=0
REF="main"
ROLES="web,worker,replies,whatsapp"
GATEWAYS=1
REPO="${MA5ZANI_REPO:-git@github.com:ma5zani/ma5zani-bot.git}"
BASE="/srv/ma5zani"
HOSTS=()

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --ref) REF="${2:?--ref needs a value}"; shift ;;
    --roles) ROLES="${2:?--roles needs a value}"; shift ;;
    --gateways) GATEWAYS="${2:?--gateways needs a value}"; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "Unknown option: $1" >&2; usage 2 ;;
    *) HOSTS+=("$1") ;;
  esac
  shift
done

if [ ${#HOSTS[@]} -eq 0 ]; then
  echo "Name at least one host." >&2
  usage 2
fi
case "$GATEWAYS" in
  ''|*[!0-9]*) echo "--gateways must be a number" >&2; exit 2 ;;
esac

RELEASE="$(date -u +%Y%m%d%H%M%S)"

# Run a command on a host (or print it with --dry-run).
remote() {
  local host="$1"
  shift
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '[dry-run] ssh %s %s\n' "$host" "$*"
  else
    ssh -o BatchMode=yes "$host" "$@"
  fi
}

has_role() {
  case ",$ROLES," in
    *",$1,"*) return 0 ;;
    *) return 1 ;;
  esac
}

deploy_host() {
  local host="$1" first="$2"
  local release="$BASE/releases/$RELEASE"
  echo "==> $host: release $RELEASE of $REF (roles: $ROLES)"
  remote "$host" "git clone --quiet --depth 1 --branch '$REF' '$REPO' '$release'"
  remote "$host" "$BASE/venv/bin/pip install --quiet -r '$release/requirements.txt'"
  if [ "$first" -eq 1 ]; then
    remote "$host" "cd '$release' && set -a && . /etc/ma5zani/env && $BASE/venv/bin/python manage.py migrate_schemas --executor=multiprocessing"
  fi
  remote "$host" "cd '$release' && set -a && . /etc/ma5zani/env && $BASE/venv/bin/python manage.py collectstatic --noinput --verbosity 0"
  remote "$host" "cd '$release' && $BASE/venv/bin/python manage.py compilemessages --ignore=.venv --verbosity 0"
  remote "$host" "ln -sfn '$release' '$BASE/current'"
  has_role web && remote "$host" "sudo systemctl restart ma5zani-web"
  has_role worker && remote "$host" "sudo systemctl restart ma5zani-worker"
  has_role replies && remote "$host" "sudo systemctl restart ma5zani-replies"
  has_role beat && remote "$host" "sudo systemctl restart ma5zani-beat"
  if has_role whatsapp; then
    local n
    for n in $(seq 1 "$GATEWAYS"); do
      remote "$host" "sudo systemctl restart ma5zani-whatsapp@$n"
      # Its sellers move to the other gateways; give them a moment before stopping the next one.
      if [ "$DRY_RUN" -eq 0 ]; then sleep 10; fi
    done
  fi
  remote "$host" "curl --fail --silent --max-time 10 http://127.0.0.1:8000/health/ >/dev/null"
  echo "==> $host: done"
}

first=1
for host in "${HOSTS[@]}"; do
  deploy_host "$host" "$first"
  first=0
done
