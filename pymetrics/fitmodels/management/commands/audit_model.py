"""``audit_model (--model VERSION | --scores PATH) [--threshold T] [--attributes a,b]
[--strata COLUMN] [--json PATH]``: the bias audit of SCIENCE.md section 4.

On a model version, the audit runs on the organisation's debiasing set (candidates
who reported groups) and is stored with the version. On a selection outcome file
(decisions made anywhere: columns ``participant``, ``score`` or ``passed``, one per
attribute), it audits those decisions; a bad cell stops it with
``PATH:LINE: column COLUMN: reason`` and exit status 1.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.common.errors import DomainError
from pymetrics.fitmodels.management.commands._models import model_version_from_argument
from pymetrics.fitmodels.science.audit import (
    AuditReport,
    OutcomeFileError,
    audit_selection_outcomes,
)
from pymetrics.fitmodels.services import fit_model_audit


class Command(BaseCommand):
    help = "Audit a model version, or any selection outcome file, for adverse impact."

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--model", help="model version: its id or '<role> v<version>'")
        source.add_argument("--scores", metavar="PATH", help="selection outcome file (CSV/TSV)")
        parser.add_argument("--org", help="organisation slug (to find --model by its label)")
        parser.add_argument(
            "--threshold", type=float, help="pass = score >= T (outcome files with a score)"
        )
        parser.add_argument("--attributes", help="comma-separated attribute columns to audit")
        parser.add_argument("--strata", metavar="COLUMN", help="column of strata (CMH)")
        parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = self._audit_model(options) if options["model"] else self._audit_file(options)
        self._print(report)
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(report.to_dict(), indent=2) + "\n")

    def _audit_model(self, options: dict[str, Any]) -> AuditReport:
        if options["threshold"] is not None or options["attributes"] or options["strata"]:
            raise CommandError(
                "--threshold, --attributes and --strata apply to --scores files; a model "
                "version is audited at its own threshold on every reported attribute"
            )
        version = model_version_from_argument(options["model"], organization_slug=options["org"])
        try:
            report = fit_model_audit(actor=None, model_version=version)
        except DomainError as error:
            raise CommandError(f"{version.label}: {error.message}") from None
        self.stdout.write(f"{version.label}: status {version.status}")
        return report

    def _audit_file(self, options: dict[str, Any]) -> AuditReport:
        path = options["scores"]
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            self._fail(f"{path}: no such file")
        except UnicodeDecodeError as error:
            self._fail(f"{path}: not UTF-8 text ({error.reason})")
        if not text.strip():
            self._fail(f"{path}:1: the file is empty (a header row is required)")
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",\t;").delimiter
        except csv.Error:
            delimiter = ","
        try:
            table = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
        except pd.errors.ParserError as error:
            self._fail(f"{path}: cannot parse the file: {error}")
        attributes = (
            [a.strip() for a in options["attributes"].split(",") if a.strip()]
            if options["attributes"]
            else None
        )
        try:
            return audit_selection_outcomes(
                outcomes=table.replace("", None),
                threshold=options["threshold"],
                attributes=attributes,
                strata_column=options["strata"],
            )
        except OutcomeFileError as error:
            line = f":{error.row + 1}" if error.row is not None else ":1"
            self._fail(f"{path}{line}: column {error.column}: {error.reason}")
        except ValueError as error:
            self._fail(f"{path}: {error}")
        raise AssertionError("unreachable")

    def _fail(self, message: str) -> Any:
        sys.stderr.write(message + "\n")
        sys.exit(1)

    def _print(self, report: AuditReport) -> None:
        verdict = "passes" if report.passed else "FAILS"
        self.stdout.write(f"4/5ths rule: {verdict} ({report.n} people)")
        for name, attribute in report.to_dict()["attributes"].items():
            ruling = attribute["four_fifths_pass"]
            ruling_text = (
                "not ruled on: " + str(attribute["reason"])
                if ruling is None
                else ("passes" if ruling else "FAILS")
            )
            self.stdout.write(f"{name}: {ruling_text}")
            for label, group in attribute["groups"].items():
                ratio = group["impact_ratio"]
                ratio_text = "-" if ratio is None else f"{ratio:.3f}"
                note = "" if group["ruled_on"] else " (under 30: reported, not ruled on)"
                self.stdout.write(
                    f"  {label}: n {group['n']}, passes {group['passes']}, "
                    f"rate {group['pass_rate']:.3f}, impact ratio {ratio_text}{note}"
                )
