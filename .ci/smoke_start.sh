#!/usr/bin/env bash
# Starts `./dev.sh start` (the README's first command), waits for it, fetches the home page
# and a topic page, and stops it again.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
setsid ./dev.sh start >"$log" 2>&1 &
pid=$!
cleanup() { kill -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for i in $(seq 1 600); do  # set-up, migrations and the demo seed (about 3 minutes on a busy 2-core machine)
  if curl -fsS -o /dev/null http://127.0.0.1:5000/ 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "dev.sh start exited early:"; cat "$log"; exit 1; fi
  sleep 1
done
curl -fsS http://127.0.0.1:5000/ -o /tmp/home.html
topic=$(grep -o 'href="/emner/[0-9][0-9]*"' /tmp/home.html | head -1 | grep -o '[0-9]*')
[ -n "$topic" ] || { echo "no topic link on the home page"; cat "$log"; exit 1; }
code=$(curl -s -o /tmp/topic.html -w '%{http_code}' "http://127.0.0.1:5000/emner/$topic")
[ "$code" = 200 ] || { echo "topic page answered $code"; exit 1; }
grep -q '<article class="post' /tmp/topic.html || { echo "topic page has no posts"; exit 1; }
for path in /spoergetid/ /borgerbudget/ "/soeg?q=skole"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5000$path")
  # search answers 503 (with a page) while the first index is still being built
  case "$code" in 200|503) ;; *) echo "$path answered $code"; cat "$log"; exit 1 ;; esac
done
session=$(curl -fsS http://127.0.0.1:5000/spoergetid/ | grep -o 'href="/spoergetid/[0-9][0-9]*"' | head -1 | grep -o '[0-9]*')
[ -n "$session" ] || { echo "no Q&A session in the demo data"; exit 1; }
for path in "/spoergetid/$session" "/spoergetid/$session/projektor"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:5000$path")
  [ "$code" = 200 ] || { echo "$path answered $code"; cat "$log"; exit 1; }
done
echo "dev.sh start: home, /emner/$topic, Q&A, budgets and search served (seeded demo data)."
grep -E "Demo accounts|admin@" "$log" | head -3 || true
