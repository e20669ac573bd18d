"""``activate_model --model VERSION [--org SLUG]``: make a version its role's active model.

Refused (exit status 1, with the reason) unless the version's bias audit passed the
4/5ths rule. The role's previous active version is retired, and every candidate of
the role's assessments is scored again by the new one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.common.errors import DomainError
from pymetrics.fitmodels.management.commands._models import model_version_from_argument
from pymetrics.fitmodels.services import fit_model_activate


class Command(BaseCommand):
    help = "Activate a job-fit model version (only once its bias audit passed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model", required=True, help="model version: its id or '<role> v<version>'"
        )
        parser.add_argument("--org", help="organisation slug (to find --model by its label)")

    def handle(self, *args: Any, **options: Any) -> None:
        version = model_version_from_argument(options["model"], organization_slug=options["org"])
        try:
            version = fit_model_activate(actor=None, model_version=version)
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"{version.label} is active; its role's candidates are being scored")
