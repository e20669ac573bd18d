"""Staff page: find the organisation's candidates by e-mail address.

``staff:candidate-search`` shows a one-field form; its answer lists the candidates
with that address (compared trimmed and case-insensitively, through the keyed
blind index), each linked to their profile. The address is sent by POST, not in
the URL, so that it stays out of access logs, browser history and Referer
headers. Every role may search; each search is audit-logged like the API's
(:func:`pymetrics.staff.api_candidates.candidate_search_by_email`), without the
address.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.assessments.models import Candidate
from pymetrics.staff.api_candidates import MAX_EMAIL_LENGTH, candidate_search_by_email
from pymetrics.staff.pages.fitmodels import no_organization_page


class CandidateSearchForm(forms.Form):
    email = forms.CharField(
        max_length=MAX_EMAIL_LENGTH,
        label=_("E-mail address"),
        help_text=_("Upper and lower case are the same; the whole address must match."),
        widget=forms.EmailInput(
            attrs={
                "autocomplete": "off",
                "aria-describedby": "candidate-search-help",
                "data-testid": "search-email",
            }
        ),
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def page(request: HttpRequest) -> HttpResponse:
    """The form (GET); the form and its matches (POST)."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    form = CandidateSearchForm(request.POST if request.method == "POST" else None)
    matches: list[Candidate] | None = None
    if form.is_bound and form.is_valid():
        matches = candidate_search_by_email(actor=actor, email=form.cleaned_data["email"])
    return render(
        request,
        "staff/candidate_search.html",
        {
            "organization": actor.organization,
            "nav": "home",
            "form": form,
            "matches": matches,
        },
    )
