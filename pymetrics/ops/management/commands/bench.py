"""``bench [--quick] [--json PATH] [--only NAME,...]``: the performance scenarios.

Prints one line per figure (``name value unit``) on stdout, progress on stderr; with
``--json`` also writes ``{"name": value, ...}``. The scenarios live in
:mod:`pymetrics.ops.bench`; this command only picks the sizes and prints.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.ops.bench import FULL, QUICK, SCENARIOS, BenchError, figures_as_dict, run_scenarios


class Command(BaseCommand):
    help = "Run the performance scenarios against the configured database and print figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quick", action="store_true", help="small sizes (under a minute), for smoke runs"
        )
        parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON here")
        parser.add_argument(
            "--only",
            metavar="NAME,...",
            help=f"run only these scenarios (known: {', '.join(SCENARIOS)})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = [n.strip() for n in options["only"].split(",")] if options["only"] else None

        def log(message: str) -> None:
            self.stderr.write(message)
            self.stderr.flush()

        try:
            figures = run_scenarios(sizes=QUICK if options["quick"] else FULL, names=names, log=log)
        except BenchError as error:
            raise CommandError(str(error)) from None
        for figure in figures:
            self.stdout.write(figure.line())
        if options["json"]:
            with open(options["json"], "w", encoding="utf-8") as handle:
                json.dump(figures_as_dict(figures), handle, indent=2)
                handle.write("\n")
