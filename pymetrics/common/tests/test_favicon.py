"""The site icon: browsers ask for /favicon.ico even when a page names its icon."""

from __future__ import annotations


def test_favicon_ico_points_at_the_svg_icon(client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/common/favicon.svg"


def test_candidate_pages_name_the_icon(client, invitation) -> None:
    html = client.get(f"/play/{invitation.invite_token}/").content.decode()

    assert '<link rel="icon" href="/static/common/favicon.svg" type="image/svg+xml">' in html
