"""The exports page's form: dataset, format, and the scope (assessment and filter).

The form offers what the viewer may choose (the datasets of their role, their
organisation's assessments); the service checks every rule again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Assessment
from pymetrics.games.registry import all_games

DATASET_LABELS = {
    "metrics": gettext_lazy("Metrics"),
    "traits": gettext_lazy("Traits"),
    "fit_scores": gettext_lazy("Fit scores"),
    "events": gettext_lazy("Raw events"),
}
FORMAT_LABELS = {
    "csv": gettext_lazy("CSV"),
    "xlsx": gettext_lazy("Excel (XLSX)"),
    "jsonl": gettext_lazy("JSON lines"),
    "parquet": gettext_lazy("Parquet"),
}
ATTEMPT_STATE_LABELS = {
    "": gettext_lazy("Any state"),
    "completed": gettext_lazy("Completed"),
    "started": gettext_lazy("Started, not finished"),
    "invited": gettext_lazy("Invited, not started"),
    "expired": gettext_lazy("Expired"),
    "withdrawn": gettext_lazy("Withdrawn"),
}


class ExportRequestForm(forms.Form):
    dataset = forms.ChoiceField(
        label=gettext_lazy("Dataset"),
        help_text=gettext_lazy(
            "One row per participant and game metric, per scored trait, per fit score, or "
            "per stored event."
        ),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=list(FORMAT_LABELS.items()), initial="csv"
    )
    assessment = forms.ModelChoiceField(
        queryset=Assessment.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every assessment"),
        label=gettext_lazy("Assessment"),
    )
    attempt_state = forms.ChoiceField(
        choices=list(ATTEMPT_STATE_LABELS.items()),
        required=False,
        label=gettext_lazy("Attempt state"),
    )
    completed_from = forms.DateField(
        required=False,
        label=gettext_lazy("Completed on or after"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    completed_to = forms.DateField(
        required=False,
        label=gettext_lazy("Completed on or before"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "With either date, only attempts completed within those days (UTC) are exported."
        ),
    )
    game = forms.ChoiceField(
        required=False,
        label=gettext_lazy("Game (metrics and raw events only)"),
    )
    include_simulated = forms.BooleanField(
        required=False,
        initial=True,
        label=gettext_lazy("Include simulated candidates"),
        help_text=gettext_lazy("Their rows say so in the simulated column."),
    )

    def __init__(
        self, *args: Any, organization: Organization, datasets: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [(key, DATASET_LABELS[key]) for key in datasets]  # type: ignore[attr-defined]
        self.fields["assessment"].queryset = Assessment.objects.filter(  # type: ignore[attr-defined]
            organization=organization
        ).order_by("name", "pk")
        self.fields["game"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("Every game")),
            *((game.key, gettext(game.title)) for game in all_games()),
        ]
