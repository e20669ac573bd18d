"""Translations: every marked string is in the catalogues, and the pages switch language."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

IGNORE = ["--ignore=.venv", "--ignore=node_modules", "--ignore=var", "--ignore=test-artifacts"]
IGNORE += ["--ignore=tests"]


def _msgids(po: Path) -> set[str]:
    """The source strings of a gettext catalogue (msgid and msgid_plural entries)."""
    ids: set[str] = set()
    current: list[str] | None = None
    for line in po.read_text(encoding="utf-8").splitlines():
        match = re.match(r'^(msgid|msgid_plural) "(.*)"$', line)
        if match:
            if current is not None:
                ids.add("".join(current))
            current = [match.group(2)]
        elif current is not None and line.startswith('"'):
            current.append(line[1:-1])
        else:
            if current is not None:
                ids.add("".join(current))
            current = None
    if current is not None:
        ids.add("".join(current))
    ids.discard("")  # the header
    return ids


@pytest.mark.parametrize(
    ("domain", "extra"),
    [("django", []), ("djangojs", ["--ignore=js-tests", "--ignore=docs"])],
)
def test_the_committed_catalogues_hold_every_marked_string(
    tmp_path, settings, monkeypatch, domain, extra
):
    # given the committed English catalogue, collected again from the code now
    base = Path(settings.BASE_DIR)
    committed = base / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
    fresh_root = tmp_path / "locale"
    shutil.copytree(base / "locale", fresh_root)
    settings.LOCALE_PATHS = [fresh_root]
    # makemessages writes into a ./locale it finds: scan a tree of links to the
    # sources that has none, so the committed catalogue is never touched
    sources = tmp_path / "sources"
    sources.mkdir()
    for entry in base.iterdir():
        if entry.name != "locale" and not entry.name.startswith("."):
            (sources / entry.name).symlink_to(entry)
    monkeypatch.chdir(sources)
    call_command(
        "makemessages", "-l", "en", "-d", domain, *IGNORE, *extra, symlinks=True, verbosity=0
    )

    # then the committed one holds exactly the strings the code marks (make messages)
    fresh = _msgids(fresh_root / "en" / "LC_MESSAGES" / f"{domain}.po")
    assert len(fresh) > 100
    assert sorted(fresh - _msgids(committed)) == []
    assert sorted(_msgids(committed) - fresh) == []


def test_game_pages_load_the_javascript_catalogue(client):
    response = client.get("/jsi18n/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    text = response.content.decode()
    assert "django.gettext" in text
    assert "django.interpolate" in text


def test_the_candidate_pages_follow_the_browser_s_language(client, invitation, settings):
    # a second language whose catalogue is empty falls back to English: the page
    # says which language it is in, and offers the switch (the settings fixture
    # also clears Django's caches of the language list)
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    response = client.get(
        f"/play/{invitation.invite_token}/", HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9"
    )

    page = response.content.decode()
    assert '<html lang="de">' in page
    assert 'data-testid="language-switch"' in page
    assert '<option value="de" selected lang="de">Deutsch</option>' in page
