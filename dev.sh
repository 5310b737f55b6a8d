#!/usr/bin/env bash
# Borgerdialog's two entry points for a fresh machine (Python >= 3.11, Node/npm, git):
#   ./dev.sh start   set everything up, add demo data to an empty database, serve on
#                    http://$HOST:$PORT (default 127.0.0.1:5000; e.g. PORT=8000 ./dev.sh start)
#   ./dev.sh test    set everything up and run the whole test suite (extra args go to pytest)
# Both are idempotent: re-running skips what is already done.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python() {
  for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "Borgerdialog needs Python 3.11 or newer (set PYTHON=/path/to/python3.x)." >&2
  exit 1
}

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

setup_python() {
  local extra="$1" stamp=".venv/.borgerdialog-deps"
  if [ ! -x .venv/bin/python ]; then
    log "Creating the virtual environment (.venv)"
    "$(find_python)" -m venv .venv
  fi
  local want; want="$(hash_of pyproject.toml)-$extra"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "Installing Python dependencies"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".$extra"
    echo "$want" > "$stamp"
  fi
}

setup_assets() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "Borgerdialog needs Node.js and npm for its front-end assets." >&2
    exit 1
  fi
  local stamp="node_modules/.borgerdialog-deps" want; want="$(hash_of package.json package-lock.json)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "Installing front-end assets (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
  mkdir -p static/vendor
  cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io.min.js
}

setup_translations() {
  .venv/bin/pybabel compile --statistics -d translations -D messages 2>&1 | sed 's/^/    /' >&2
}

setup() {
  setup_python "$1"
  setup_assets
  setup_translations
}

cmd="${1:-start}"
shift || true
case "$cmd" in
  start)
    setup ""
    log "Migrating the database"
    .venv/bin/flask --app app db upgrade
    .venv/bin/flask --app app moderation ensure-rules
    .venv/bin/flask --app app seed-demo --if-empty
    log "Serving Borgerdialog on http://${HOST:-127.0.0.1}:${PORT:-5000} (Ctrl-C stops it)"
    exec .venv/bin/python app.py
    ;;
  test)
    setup "[test]"
    # Spread the tests over the cores (pytest-xdist; tests/conftest.py keeps the live and
    # browser tests together): PYTEST_WORKERS=0 runs them in this one process, a number
    # sets how many workers; an explicit -n among the arguments wins.
    parallel=(-n "${PYTEST_WORKERS:-auto}" --dist loadgroup)
    for arg in "$@"; do
      case "$arg" in -n|-n*|--numprocesses*|-pno:xdist|no:xdist) parallel=() ;; esac
    done
    [ "${PYTEST_WORKERS:-auto}" = "0" ] && parallel=(-p no:xdist)
    log "Running the tests"
    exec .venv/bin/python -m pytest "${parallel[@]}" "$@"
    ;;
  i18n)
    # Developers: after changing user-facing strings, refresh the catalogues, then
    # translate what is empty or fuzzy in translations/da/LC_MESSAGES/messages.po.
    setup_python ""
    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
      --sort-output --project Borgerdialog -o translations/messages.pot . 2>/dev/null
    .venv/bin/pybabel update -i translations/messages.pot -d translations --no-wrap \
      --ignore-obsolete 2>/dev/null
    .venv/bin/python scripts/i18n_fill_en.py
    ;;
  *)
    echo "usage: ./dev.sh start | ./dev.sh test [pytest args] | ./dev.sh i18n" >&2
    exit 2
    ;;
esac
