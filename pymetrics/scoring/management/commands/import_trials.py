"""``import_trials --game GAME [--org SLUG] [--assessment NAME] PATH``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pymetrics.accounts.services import organization_get_or_create
from pymetrics.common.errors import DomainError
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.games.trial_files import TrialFileError, read_trial_file
from pymetrics.scoring.imports import trials_import


class Command(BaseCommand):
    help = (
        "Import trial-level data (CSV or TSV, one row per trial) as completed game sessions, "
        "one per participant, and compute their metrics. All rows or none."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--game", required=True)
        parser.add_argument(
            "--org", default="default", help="organisation slug (created if missing)"
        )
        parser.add_argument("--assessment", help="assessment name (default: the file's name)")

    def _fail(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.exit(1)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"]
        try:
            game = get_game(options["game"])
        except UnknownGameError as error:
            self._fail(f"{path}: {error}")
            return
        try:
            trials = read_trial_file(path, game)
        except TrialFileError as error:
            self._fail(str(error))
            return
        organization = organization_get_or_create(slug=options["org"])
        try:
            summary = trials_import(
                organization=organization,
                assessment_name=options["assessment"] or Path(path).stem,
                game=game,
                trials=trials,
                source_name=Path(path).name,
            )
        except DomainError as error:
            self._fail(f"{path}: {error.message}")
            return
        self.stdout.write(
            f"imported {summary.trials} trials of {summary.participants} participants "
            f"({game.key}) into assessment {summary.assessment_id}"
        )
