#!/usr/bin/env bash
# The periodic jobs in one loop (Procfile's "periodic"; systemd uses deploy/systemd/*.timer):
# every minute `mail send`, `qa tick`, `budgets advance`, `opinions recompute`; every 5 minutes `moderation remind`;
# every 10 minutes `mail digests`; every hour `privacy purge`, `meetings remind` and `api dump --if-due` (the open-data zip
# when the last is older than API_DUMP_INTERVAL, 24 h). A failing job is reported and the loop goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
flask="${FLASK:-.venv/bin/flask}"
job() { "$flask" --app app "$@" || echo "periodic: '$*' failed (exit $?)" >&2; }
minute=0
while :; do
  started=$(date +%s)
  job mail send
  job qa tick
  job budgets advance
  job opinions recompute
  if (( minute % 5 == 0 )); then job moderation remind; fi
  if (( minute % 10 == 0 )); then job mail digests; fi
  if (( minute == 17 )); then job privacy purge; fi
  if (( minute == 29 )); then job meetings remind; fi
  if (( minute == 43 )); then job api dump --if-due; fi
  minute=$(( (minute + 1) % 60 ))
  sleep $(( 60 - ( $(date +%s) - started ) % 60 ))
done
