"""``train_model --profile NAME [--org SLUG] [--algorithm A] [--no-debias] [--seed S]
[--json PATH]``.

Trains a new model version of a role in this process (what the Celery task does
for the pages), showing progress, and prints the cross-validated AUC and the audit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pymetrics.fitmodels.models import Algorithm, JobProfile, TrainingJob
from pymetrics.fitmodels.services import training_job_request, training_job_run


class Command(BaseCommand):
    help = "Train a new job-fit model version of a role (then audit it, and debias if it fails)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--profile", required=True, help="the job profile's (role's) name")
        parser.add_argument("--org", help="organisation slug (when several have the role)")
        parser.add_argument("--algorithm", choices=Algorithm.values)
        parser.add_argument(
            "--no-debias", action="store_true", help="keep a failing model as it is"
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", metavar="PATH", help="also write the version as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        profiles = JobProfile.objects.select_related("organization").filter(name=options["profile"])
        if options["org"]:
            profiles = profiles.filter(organization__slug=options["org"])
        found = list(profiles[:2])
        if not found:
            raise CommandError(f"--profile {options['profile']!r}: no such job profile")
        if len(found) > 1:
            raise CommandError("several organisations have a role of that name: add --org SLUG")
        job = training_job_request(
            actor=None,
            job_profile=found[0],
            algorithm=options["algorithm"],
            debias_if_needed=not options["no_debias"],
            seed=options["seed"],
            queue=False,
        )

        def echo(fraction: float, message: str) -> None:
            sys.stderr.write(f"{fraction * 100:5.1f}% {message}\n")

        version = training_job_run(training_job_id=job.pk, echo=echo)
        job = TrainingJob.objects.get(pk=job.pk)
        if version is None:
            raise CommandError(f"training failed: {job.error}")
        cv = version.cv_report
        auc, low, high = cv["auc"], cv["auc_ci"]["low"], cv["auc_ci"]["high"]
        self.stdout.write(
            f"{version.label} ({version.algorithm}): {version.n_successful} successful "
            f"incumbents against {version.n_baseline}; cross-validated AUC "
            f"{auc:.3f} (95% CI {low:.3f}-{high:.3f}); status {version.status}"
        )
        if version.audit_passed is None:
            self.stdout.write("not audited: nobody in the organisation reported groups")
        else:
            verdict = "passes" if version.audit_passed else "fails"
            self.stdout.write(f"bias audit: the 4/5ths rule {verdict}")
        for step in version.debias_history:
            self.stdout.write(f"debiasing: {json.dumps(step, sort_keys=True)[:300]}")
        if options["json"]:
            Path(options["json"]).write_text(
                json.dumps(
                    {
                        "id": version.pk,
                        "label": version.label,
                        "status": version.status,
                        "fingerprint": version.fingerprint,
                        "cross_validation": cv,
                        "feature_weights": version.feature_weights,
                        "audit": version.audit_report,
                        "debias_history": version.debias_history,
                    },
                    indent=2,
                )
                + "\n"
            )
