"""Forms of the staff pages."""

from __future__ import annotations

from django import forms

from pymetrics.games.registry import all_games


class AssessmentForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name", help_text="e.g. “Graduate analysts 2027”")
    games = forms.MultipleChoiceField(
        label="Games",
        widget=forms.CheckboxSelectMultiple,
        help_text="Candidates play them in this order.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["games"].choices = [  # type: ignore[attr-defined]
            (game.key, f"{game.title} (~{game.estimated_minutes:g} min)") for game in all_games()
        ]


class InviteForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    email = forms.EmailField(label="E-mail")
    external_id = forms.CharField(
        max_length=200, required=False, label="External id", help_text="Your ATS id, optional."
    )
