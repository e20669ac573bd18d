"""HTML to PDF through WeasyPrint, fetching nothing but the project's own static files.

The reports are rendered by Django templates and turned into PDF here. WeasyPrint
(and Pango, the system library it lays text out with) is imported on the first
PDF a process makes, not when the process starts: most server processes never
make one.

Stylesheets and images are read from the static files finders, never over the
network: a report's HTML holds names an organisation typed (assessments, roles),
and a PDF engine that followed any URL would let such text reach other hosts.
Anything other than a static file is refused, and WeasyPrint leaves it out.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header

#: The base URL documents are rendered under; only static files are found under it.
PDF_BASE_URL = "http://report.invalid/"


class StaticFileRefused(ValueError):
    """A PDF asked for something that is not one of the project's static files."""


def static_file_for(url: str) -> Path:
    """The static file a URL in a report names, or StaticFileRefused."""
    static_url = str(settings.STATIC_URL)
    if static_url.startswith(("http://", "https://")) and url.startswith(static_url):
        relative = url[len(static_url) :]
    else:
        parts = urlsplit(url)
        base = urlsplit(PDF_BASE_URL)
        prefix = urlsplit(static_url).path
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
            prefix
        ):
            raise StaticFileRefused(f"not a static file: {url}")
        relative = parts.path[len(prefix) :]
    try:
        found = finders.find(unquote(relative))
    except Exception as error:  # a path that leaves the static folders
        raise StaticFileRefused(f"not a static file: {url}") from error
    if not found or isinstance(found, list):
        raise StaticFileRefused(f"no static file {relative}")
    return Path(found)


def _fetcher() -> Any:
    from weasyprint import urls

    class StaticFilesFetcher(urls.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_for(url)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return urls.URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": mime_type}
            )

    return StaticFilesFetcher(allowed_protocols=("http", "data"))


def _quiet_weasyprint() -> None:
    # WeasyPrint logs each layout step (info) and each screen-only rule it skips in a
    # stylesheet (warning; the candidate pages' media queries): dozens of lines per
    # report. Its errors (a stylesheet it could not load) still get through.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("weasyprint.progress").setLevel(logging.ERROR)


def pdf_from_html(html: str) -> bytes:
    """The PDF of a rendered report (page size, margins and running header and footer
    come from the report's print stylesheet)."""
    from weasyprint import HTML

    _quiet_weasyprint()
    return bytes(HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=_fetcher()).write_pdf())


def pdf_response(content: bytes, *, filename: str) -> HttpResponse:
    """A PDF as a download that no cache keeps (it holds a candidate's results)."""
    response = HttpResponse(
        content,
        content_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)
        },
    )
    add_never_cache_headers(response)
    return response
