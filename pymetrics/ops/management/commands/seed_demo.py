"""``seed_demo``: a demo organisation so every page has data on a first run.

Creates (once) the organisation ``demo``, a staff owner whose login is printed,
an assessment with every game, a few hundred *simulated* candidates played by
bots through the real pipeline, and (when no norms apply yet) a shared simulated
reference norm table their traits are scored against, and a job-fit role whose
incumbents are bots chosen by their latent abilities (:mod:`pymetrics.ops.demo_role`),
trained, audited and activated. Running it again changes nothing.

The candidates have a history: their invitations are spread over the past
``--weeks`` weeks (a seeded, growing weekly volume with noise; see
:func:`pymetrics.ops.simulation.plan_history`), and they follow a funnel: about
10% are only invited (older invitations expire), about 12% stop after some
games, the others finish. Scoring runs in this process while seeding, whether or
not a worker is running yet (``make run`` starts the worker after seeding), so
the history is complete and consistently dated when the command returns.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from pymetrics.accounts.models import User
from pymetrics.accounts.services import organization_get_or_create, user_create
from pymetrics.assessments.services import assessment_get_or_create
from pymetrics.games.registry import game_keys
from pymetrics.ops.demo_role import DEMO_ROLE, demo_role_seed
from pymetrics.ops.simulation import (
    History,
    SimulatedCandidate,
    scores_backdate,
    simulate_candidates,
)
from pymetrics.scoring.models import NormPopulation, NormTable
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import norm_table_build, traits_reinfer_for_norm_table

DEMO_EMAIL = "demo@pymetrics.local"
DEMO_ASSESSMENT = "Demo battery (simulated candidates)"
#: The shared reference norms every organisation without its own is scored against.
DEMO_NORMS = "Simulated reference population"
DEMO_NORM_PLAYERS = 500
#: Weeks of history the demo's candidates are spread over.
DEMO_WEEKS = 12
#: The demo's funnel: shares of candidates only invited, and stopped after some games.
DEMO_INVITED_ONLY = 0.10
DEMO_STOPPED = 0.12


@contextmanager
def scoring_in_process() -> Iterator[None]:
    """Run Celery tasks (metric extraction, trait inference) in this process meanwhile."""
    conf = current_app.conf
    saved = (conf.task_always_eager, conf.task_eager_propagates)
    conf.task_always_eager, conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = saved


class Command(BaseCommand):
    help = "Seed a demo organisation, staff login and simulated candidates (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--candidates", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument(
            "--norm-players",
            type=int,
            default=DEMO_NORM_PLAYERS,
            help="bots per game in the simulated reference norms",
        )
        parser.add_argument(
            "--weeks",
            type=int,
            default=DEMO_WEEKS,
            help="weeks of history the simulated candidates are spread over",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["weeks"] < 1:
            raise CommandError("--weeks must be at least 1")
        with scoring_in_process():
            self._seed(options)

    def _seed(self, options: dict[str, Any]) -> None:
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
        now = timezone.now()
        missing = options["candidates"] - assessment.attempts.count()
        simulated: list[SimulatedCandidate] = []
        if missing > 0:
            self.stdout.write(
                f"Simulating {missing} candidates over the past {options['weeks']} weeks "
                "(bots with known parameters)…"
            )

            def progress(done: int, total: int) -> None:
                if done == total or done % 50 == 0:
                    sys.stdout.write(f"  {done}/{total}\n")
                    sys.stdout.flush()

            simulated = simulate_candidates(
                organization=organization,
                assessment=assessment,
                count=missing,
                seed=options["seed"],
                progress=progress,
                history=History(
                    weeks=options["weeks"],
                    invited_only=DEMO_INVITED_ONLY,
                    stopped=DEMO_STOPPED,
                    now=now,
                ),
            )
        if current_norm_table(organization_id=organization.pk) is None:
            self.stdout.write(
                f"Building the simulated reference norms ({options['norm_players']} bots per game)…"
            )
            table = norm_table_build(
                population=NormPopulation.SIMULATED,
                name=DEMO_NORMS,
                players=options["norm_players"],
                seed=options["seed"] + 1,
            )
            # the reference existed before the first simulated candidate was scored
            NormTable.objects.filter(pk=table.pk).update(
                created_at=now - timedelta(weeks=options["weeks"], days=1)
            )
            summary = traits_reinfer_for_norm_table(norm_table=table)
            scores_backdate(attempt_ids=list(assessment.attempts.values_list("pk", flat=True)))
            self.stdout.write(f"  traits inferred for {summary.attempts} candidates")
        if simulated:
            self._seed_role(user, assessment, simulated, options["seed"])
        if password is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    "\nStaff login created (shown once):\n"
                    f"  e-mail:   {DEMO_EMAIL}\n  password: {password}\n"
                    "  The owner sets up two-factor authentication (an authenticator app\n"
                    "  on a phone) at the first log-in.\n"
                )
            )
        else:
            self.stdout.write(
                f"Demo data ready. Staff login: {DEMO_EMAIL} (password shown when it was "
                "created; reset it with: python manage.py changepassword "
                f"{DEMO_EMAIL}; two-factor authentication is set up at the first log-in)"
            )

    def _seed_role(
        self, owner: User, assessment: Any, simulated: list[SimulatedCandidate], seed: int
    ) -> None:
        self.stdout.write(f"Training the demo job-fit role “{DEMO_ROLE}”…")
        version = demo_role_seed(owner=owner, assessment=assessment, simulated=simulated, seed=seed)
        if version is None:
            self.stdout.write("  not trained: the role exists, or too few bots finished")
            return
        auc = (version.cv_report or {}).get("auc")
        state = "active" if version.status == "active" else f"left as {version.status}"
        self.stdout.write(
            f"  {version.label}: AUC {auc:.3f} on simulated candidates; bias audit "
            f"{'passed' if version.audit_passed else 'failed'}, {state}"
        )
