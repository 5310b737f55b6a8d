#!/usr/bin/env bash
# nginx in front of the local instances (Procfile's "proxy"): deploy/nginx-borgerdialog.conf
# with this checkout's static/ directory, plain HTTP on 127.0.0.1:${NGINX_PORT:-8080}, no
# redirect server, logs to stderr. `deploy/nginx-local.sh -t` only tests the configuration.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${NGINX_PORT:-8080}"
if ! command -v nginx >/dev/null 2>&1; then
  echo "nginx is not installed (Debian: apt-get install nginx); the instances answer on their own ports." >&2
  [ "${1:-}" = "-t" ] && exit 3
  exec tail -f /dev/null  # keep honcho's other processes running
fi
run="$(mktemp -d "${TMPDIR:-/tmp}/borgerdialog-nginx.XXXXXX")"
trap 'rm -rf "$run"' EXIT
mkdir -p "$run/tmp"
sed -e '/# BEGIN redirect/,/# END redirect/d' \
    -e "s#/srv/borgerdialog#$root#g" \
    -e "s#server 127.0.0.1:8001 #server 127.0.0.1:${WEB1_PORT:-8001} #" \
    -e "s#server 127.0.0.1:8002 #server 127.0.0.1:${WEB2_PORT:-8002} #" \
    -e "s#listen 443 ssl http2;#listen 127.0.0.1:$port;#" \
    -e '/listen \[::\]/d' -e '/ssl_/d' \
    -e "s#/var/log/nginx/borgerdialog.access.log#/dev/stdout#" \
    -e "s#/var/log/nginx/borgerdialog.error.log#stderr#" \
    "$root/deploy/nginx-borgerdialog.conf" > "$run/site.conf"
mime=""
[ -f /etc/nginx/mime.types ] && mime="include /etc/nginx/mime.types;"
cat > "$run/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $run/nginx.pid;
error_log stderr;
events { worker_connections 1024; }
http {
    $mime
    client_body_temp_path $run/tmp/body;
    proxy_temp_path $run/tmp/proxy;
    fastcgi_temp_path $run/tmp/fastcgi;
    uwsgi_temp_path $run/tmp/uwsgi;
    scgi_temp_path $run/tmp/scgi;
    include $run/site.conf;
}
CONF
if [ "${1:-}" = "-t" ]; then
  nginx -e stderr -p "$run" -c "$run/nginx.conf" -t
  exit
fi
echo "nginx: http://127.0.0.1:$port/ -> 127.0.0.1:${WEB1_PORT:-8001}, :${WEB2_PORT:-8002}" >&2
nginx -e stderr -p "$run" -c "$run/nginx.conf" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$run"' EXIT INT TERM
wait "$pid"
