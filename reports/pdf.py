"""PDF from the report's own HTML, through WeasyPrint (the one module that imports it).

WeasyPrint needs Pango from the system. Without it the import fails; the report page then
says in one line what to install and still offers the HTML version. WeasyPrint fetches
nothing: the report's stylesheet is handed to it as a string (no inline style in the HTML,
which keeps every template within the Content-Security-Policy), and any URL is refused.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

from flask import current_app

INSTALL_HINT = "apt-get install libpango-1.0-0 libpangoft2-1.0-0"


@cache
def _weasyprint():
    try:
        with warnings.catch_warnings():
            # WeasyPrint warns at import when the optional HarfBuzz-Subset library is missing
            # (fonts are then embedded whole); the PDF is still right.
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint
    except (ImportError, OSError):  # OSError: the Python package is there, Pango is not
        return None
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # a line per font subset
    return weasyprint


def available() -> bool:
    return _weasyprint() is not None


def render(html: str) -> bytes:
    """The PDF of ``html`` (a whole page). Raises RuntimeError when WeasyPrint cannot run."""
    wp = _weasyprint()
    if wp is None:
        raise RuntimeError(INSTALL_HINT)
    fetcher = _no_fetching(wp)
    doc = wp.HTML(string=html, base_url="http://report.invalid/", url_fetcher=fetcher)
    return doc.write_pdf(stylesheets=[wp.CSS(string=stylesheet(), url_fetcher=fetcher)])


def stylesheet() -> str:
    """The report's stylesheet (our own file), given to WeasyPrint as a string: it fetches
    nothing."""
    return (Path(current_app.static_folder) / "css" / "reports.css").read_text("utf-8")


def _no_fetching(wp):
    class NoFetching(wp.urls.URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"not fetched: {url}")

    return NoFetching()
