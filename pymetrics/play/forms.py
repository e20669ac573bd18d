"""Forms of the candidate pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        required=True,
        label=_("I have read the above and agree to take part."),
        error_messages={"required": _("Please tick this box to continue, or close the page.")},
    )
    accommodation_extended_time = forms.BooleanField(
        required=False,
        label=_("Extended or no time limits"),
        help_text=_("Games with time limits give you more time."),
    )
    accommodation_reduced_motion = forms.BooleanField(
        required=False,
        label=_("Reduced motion"),
        help_text=_("Animations are replaced by still pictures."),
    )
    accommodation_colour_safe = forms.BooleanField(
        required=False,
        label=_("Colour-blind-safe colours"),
        help_text=_("Colours that stay distinct with any colour vision."),
    )

    def accommodations(self) -> dict[str, bool]:
        return {
            "extended_time": bool(self.cleaned_data.get("accommodation_extended_time")),
            "reduced_motion": bool(self.cleaned_data.get("accommodation_reduced_motion")),
            "colour_safe": bool(self.cleaned_data.get("accommodation_colour_safe")),
        }
