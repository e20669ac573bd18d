"""The migrations describe the models: a model change without its migration fails here."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration(capsys):
    # makemigrations --check exits with status 1 when a migration is missing
    call_command("makemigrations", "--check", "--dry-run", verbosity=1)

    assert capsys.readouterr().out == "No changes detected\n"
