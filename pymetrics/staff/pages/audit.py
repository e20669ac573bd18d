"""Staff page of the organisation's audit log: who read or changed what, and when.

``staff:audit-log`` lists the organisation's entries newest first, 50 to a page,
narrowed by action, member, object and period. It is for owners and admins (the
log says who looked at which candidate: a recruiter does not audit colleagues).
Each entry shows whether it is sealed into the hash chain yet and at which place;
``manage.py verify_audit_log`` checks the chain (docs/security.md). Reading the
log is itself logged.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.selectors import (
    AuditFilter,
    audit_actions,
    audit_entries,
    audit_object_types,
    team_members,
)
from pymetrics.accounts.services import audit_log_record
from pymetrics.staff.pages.fitmodels import no_organization_page

ENTRIES_PER_PAGE = 50
AUDIT_READERS = frozenset({Role.OWNER, Role.ADMIN})


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    actor = forms.TypedChoiceField(
        label=gettext_lazy("Who"), required=False, coerce=int, empty_value=None
    )
    object_type = forms.ChoiceField(label=gettext_lazy("Object"), required=False)
    object_id = forms.CharField(
        label=gettext_lazy("Object id"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("With an object: the id of one (a candidate's number, say)."),
    )
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Dates in UTC; the day itself is included."),
    )

    def __init__(
        self,
        data: Any,
        *,
        actions: list[str],
        people: list[tuple[int, str]],
        object_types: list[str],
    ) -> None:
        super().__init__(data)
        everything = [("", _("All"))]
        self.fields["action"].choices = everything + [(a, a) for a in actions]  # type: ignore[attr-defined]
        self.fields["actor"].choices = everything + [(str(pk), name) for pk, name in people]  # type: ignore[attr-defined]
        self.fields["object_type"].choices = everything + [(t, t) for t in object_types]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end comes before the start."))
        if cleaned.get("object_id") and not cleaned.get("object_type"):
            self.add_error("object_id", _("Choose the kind of object the id is of."))
        return cleaned

    def chosen(self) -> AuditFilter:
        data = self.cleaned_data
        since = data.get("since")
        until = data.get("until")
        return AuditFilter(
            action=data.get("action") or "",
            actor_id=data.get("actor"),
            object_type=data.get("object_type") or "",
            object_id=(data.get("object_id") or "").strip(),
            since=_start_of(since) if since else None,
            until=_start_of(until) + timedelta(days=1) if until else None,
        )


def _start_of(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _entry_row(entry: AuditLog, names: dict[int, str]) -> dict[str, Any]:
    if entry.actor_id is None:
        who = _("the platform")
    else:
        who = names.get(entry.actor_id) or _("former member %(id)s") % {"id": entry.actor_id}
    link = ""
    if entry.object_type == "candidate" and entry.object_id.isdigit():
        link = reverse("staff:candidate-profile", args=[int(entry.object_id)])
    details = ", ".join(f"{key}: {value}" for key, value in sorted(entry.details.items()))
    return {
        "entry": entry,
        "who": who,
        "by_api_key": entry.api_key_id is not None,
        "object_link": link,
        "details": details,
    }


@login_required
@require_safe
def page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    if actor.role not in AUDIT_READERS:
        return render(
            request,
            "privacy/forbidden.html",
            {
                "nav": "audit",
                "organization": actor.organization,
                "message": _("Only owners and admins read the audit log."),
            },
            status=403,
        )
    organization = actor.organization
    members = team_members(organization=organization)
    names = {m.user.pk: m.user.full_name or m.user.email for m in members}
    form = AuditFilterForm(
        request.GET or None,
        actions=audit_actions(organization=organization),
        people=sorted(names.items(), key=lambda item: item[1].casefold()),
        object_types=audit_object_types(organization=organization),
    )
    chosen = form.chosen() if form.is_bound and form.is_valid() else AuditFilter()
    entries: QuerySet[AuditLog] = (
        AuditLog.objects.none()
        if form.is_bound and not form.is_valid()
        else audit_entries(organization=organization, chosen=chosen)
    )
    listing = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_entry_row(entry, names) for entry in listing.object_list]  # before this read's entry
    audit_log_record(
        actor=actor,
        action="audit_log.read",
        object_type="organization",
        object_id=organization.pk,
        details={"page": listing.number, "filtered": chosen != AuditFilter()},
    )
    query = {key: value for key, value in request.GET.items() if key != "page" and value}
    return render(
        request,
        "staff/audit/list.html",
        {
            "nav": "audit",
            "organization": organization,
            "form": form,
            "listing": listing,
            "rows": rows,
            "page_query": urlencode(query),
        },
    )
