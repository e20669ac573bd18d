"""Forms of the staff pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from pymetrics.games.registry import all_games


class AssessmentForm(forms.Form):
    name = forms.CharField(
        max_length=200, label=_("Name"), help_text=_("e.g. “Graduate analysts 2027”")
    )
    games = forms.MultipleChoiceField(
        label=_("Games"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Candidates play them in this order."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["games"].choices = [  # type: ignore[attr-defined]
            (
                game.key,
                gettext("%(title)s (~%(minutes)s min)")
                % {"title": gettext(game.title), "minutes": f"{game.estimated_minutes:g}"},
            )
            for game in all_games()
        ]


class InviteForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    email = forms.EmailField(label=_("E-mail"))
    external_id = forms.CharField(
        max_length=200,
        required=False,
        label=_("External id"),
        help_text=_("Your ATS id, optional."),
    )
