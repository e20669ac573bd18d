"""``create_api_key --user EMAIL [--scope S ...]``: print a new staff API key, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.accounts.models import ApiScope
from pymetrics.accounts.selectors import organization_by_slug, user_by_email
from pymetrics.accounts.services import DEFAULT_API_SCOPES, api_key_create
from pymetrics.common.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for a staff user and print it (it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the user's e-mail address")
        parser.add_argument("--org", help="organisation slug (default: the user's first)")
        parser.add_argument("--name", default="", help="a label for the key")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiScope.values,
            dest="scopes",
            help=f"what the key may do (repeatable; default: {', '.join(DEFAULT_API_SCOPES)})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_by_email(email=options["user"])
        if user is None:
            raise CommandError(f"no user with e-mail {options['user']!r}")
        organization = None
        if options["org"]:
            organization = organization_by_slug(slug=options["org"])
            if organization is None:
                raise CommandError(f"no organisation with slug {options['org']!r}")
        try:
            issued = api_key_create(
                user=user,
                organization=organization,
                name=options["name"],
                scopes=options["scopes"] or DEFAULT_API_SCOPES,
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(issued.plaintext)
