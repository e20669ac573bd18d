"""Secrets that travel in URLs, masked wherever a URL is written down (logs, errors).

An invite link, a socket's session token, a signed download and a welcome link
each open something to whoever holds them. A server's own log lines name request
paths (uvicorn's socket lines, Django's "Not Found: ..."), so every rendered line
passes through :func:`redact_text`, and error reports through :func:`mask_url`.
"""

from __future__ import annotations

import re

FILTERED = "[Filtered]"

#: path segments that are secrets: /play/<invite>/ (pages and the API, not
#: /api/v1/play/game-sessions/<id>/ nor the socket's /ws/play/<id>/),
#: /download/<signed>/, /welcome/<uid>/<token>/
_PATH_SECRETS = re.compile(
    r"(?<!/ws)(/play/)(?!game-sessions/)[^/?#\s\"']+"
    r"|(/download/)[^/?#\s\"']+"
    r"|(/welcome/[^/?#\s\"']+/)[^/?#\s\"']+"
)
#: query parameters that are secrets: the socket's ?token=, any signature
_QUERY_SECRETS = re.compile(r"([?&](?:token|signature)=)[^&#\s\"']+")


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = next(group for group in match.groups() if group is not None)
    return prefix + FILTERED


def redact_text(text: str) -> str:
    """``text`` with every URL secret replaced by ``[Filtered]``."""
    if "/" not in text and "=" not in text:
        return text  # most lines: nothing that could be a URL
    return _QUERY_SECRETS.sub(rf"\g<1>{FILTERED}", _PATH_SECRETS.sub(_keep_prefix, text))


def mask_url(url: str) -> str:
    """``url`` without its query string and with its secrets masked."""
    return redact_text(url.split("?", 1)[0])
