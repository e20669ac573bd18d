"""``seed_demo``: a demo organisation so every page has data on a first run.

Creates (once) the organisation ``demo``, a staff owner whose login is printed,
an assessment with every game, and a few hundred *simulated* candidates played
by bots through the real pipeline. Running it again changes nothing.
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from pymetrics.accounts.models import User
from pymetrics.accounts.services import organization_get_or_create, user_create
from pymetrics.assessments.services import assessment_get_or_create
from pymetrics.games.registry import game_keys
from pymetrics.ops.simulation import simulate_candidates

DEMO_EMAIL = "demo@pymetrics.local"
DEMO_ASSESSMENT = "Demo battery (simulated candidates)"


class Command(BaseCommand):
    help = "Seed a demo organisation, staff login and simulated candidates (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--candidates", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_get_or_create(slug="demo", name="Demo Organisation")
        password = None
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = user_create(
                    email=DEMO_EMAIL,
                    password=password,
                    organization=organization,
                    role="owner",
                    full_name="Demo Owner",
                    is_staff=True,
                    is_superuser=True,
                )
        assessment = assessment_get_or_create(
            organization=organization, name=DEMO_ASSESSMENT, games=game_keys()
        )
        missing = options["candidates"] - assessment.attempts.count()
        if missing > 0:
            self.stdout.write(f"Simulating {missing} candidates (bots with known parameters)…")

            def progress(done: int, total: int) -> None:
                if done == total or done % 50 == 0:
                    sys.stdout.write(f"  {done}/{total}\n")
                    sys.stdout.flush()

            simulate_candidates(
                organization=organization,
                assessment=assessment,
                count=missing,
                seed=options["seed"],
                progress=progress,
            )
        if password is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    "\nStaff login created (shown once):\n"
                    f"  e-mail:   {DEMO_EMAIL}\n  password: {password}\n"
                )
            )
        else:
            self.stdout.write(
                f"Demo data ready. Staff login: {DEMO_EMAIL} (password shown when it was "
                "created; reset it with: python manage.py changepassword "
                f"{DEMO_EMAIL})"
            )
