"""Security headers on every response: pages, error pages, fragments, static files, exports.

The Content-Security-Policy is the second line behind escaping (see tests/forum/test_escaping.py):
should markup ever slip through, the browser runs no inline script, no ``on*=`` handler, no
``javascript:`` URL and no plugin, loads nothing from another site, cannot be framed and sends
forms only here. Every script is a file under static/ (static/js, static/vendor) and every style
a stylesheet under static/css, so ``script-src 'self'`` and ``style-src 'self'`` hold without
``'unsafe-inline'``. The live updates (Socket.IO) are same-origin, so ``connect-src 'self'``
covers their polling requests and their websocket (CSP 3 lets 'self' match ws:/wss: of the same
host). ``img-src`` allows ``data:`` for the small icons a stylesheet may inline.

``CONTENT_SECURITY_POLICY`` in the config replaces the policy (e.g. to add a report-uri).
"""

from __future__ import annotations

from flask import Flask, Response, current_app

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
}


def _add_headers(response: Response) -> Response:
    policy = current_app.config.get("CONTENT_SECURITY_POLICY") or CONTENT_SECURITY_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
