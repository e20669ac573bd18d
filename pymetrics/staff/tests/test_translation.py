"""The staff pages speak the browser's language where a catalogue has it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GERMAN = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Staff log in"
msgstr "Anmeldung für Mitarbeitende"

msgid "New assessment"
msgstr "Neue Einstufung"

msgid "Cards"
msgstr "Karten"
"""


@pytest.fixture
def german(tmp_path, settings):
    """A German catalogue of three strings, compiled: enough to see the pages use it."""
    if shutil.which("msgfmt") is None:
        pytest.skip("needs msgfmt (apt-get install gettext)")
    messages = tmp_path / "de" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(GERMAN, encoding="utf-8")
    subprocess.run(
        ["msgfmt", "-o", str(messages / "django.mo"), str(messages / "django.po")], check=True
    )
    # the settings fixture also resets Django's translation caches
    settings.LOCALE_PATHS = [tmp_path, *settings.LOCALE_PATHS]
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    return Path(tmp_path)


def test_the_login_page_follows_the_browser_and_offers_the_switch(client, german):
    page = client.get("/staff/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()

    assert '<html lang="de">' in page
    assert "<h1>Anmeldung für Mitarbeitende</h1>" in page
    assert 'data-testid="language-switch"' in page
    # a string the catalogue lacks stays English
    assert "Skip to content" in page


def test_the_new_assessment_form_translates_titles_and_game_names(client, recruiter, german):
    client.force_login(recruiter)

    page = client.get("/staff/assessments/new/", HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "<h1>Neue Einstufung</h1>" in page
    assert "Karten (~" in page


def test_english_pages_show_no_switch_with_one_language(client):
    page = client.get("/staff/login/", HTTP_ACCEPT_LANGUAGE="de-DE").content.decode()

    assert '<html lang="en">' in page
    assert "<h1>Staff log in</h1>" in page
    assert "language-switch" not in page
