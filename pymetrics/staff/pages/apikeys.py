"""Staff page: API keys, made with a name and scopes, listed and revoked.

``staff:api-keys`` lists keys (a member their own; owners and admins every key
of the organisation) and makes a new one for the viewer; ``staff:api-key-created``
shows the new key's full text exactly once: it is put in the session only to
cross the redirect and taken out when shown (only its hash is stored, so it can
never be shown again). ``staff:api-key-revoke`` revokes a key (one's own; owners
and admins any of the organisation). Creation and revocation are audit-logged by
the services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.models import ApiKey, ApiScope
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.selectors import api_keys_visible
from pymetrics.accounts.services import (
    DEFAULT_API_SCOPES,
    MEMBER_MANAGERS,
    Actor,
    api_key_create,
    api_key_revoke_by,
)
from pymetrics.common.errors import DomainError, NotFound

#: Session entry that carries a new key across the redirect to the page showing it.
SESSION_NEW_KEY = "staff_new_api_key"

SCOPE_LABELS = {
    ApiScope.READ: gettext_lazy("Read: list and read assessments, candidates, results"),
    ApiScope.WRITE: gettext_lazy("Write: create and change (invite candidates, train models …)"),
    ApiScope.EXPORT: gettext_lazy("Export: bulk exports and candidates' data archives"),
}
SCOPE_NAMES = {
    ApiScope.READ: gettext_lazy("read"),
    ApiScope.WRITE: gettext_lazy("write"),
    ApiScope.EXPORT: gettext_lazy("export"),
}


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("What the key is for, e.g. “ATS sync”. Shown in the list."),
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, SCOPE_LABELS[scope]) for scope in ApiScope],
        widget=forms.CheckboxSelectMultiple,
        initial=list(DEFAULT_API_SCOPES),
        label=gettext_lazy("What the key may do"),
        help_text=gettext_lazy(
            "Give a key only what its program needs. The key never does more than your role allows."
        ),
        error_messages={"required": gettext_lazy("Choose at least one scope.")},
    )


def _no_organization(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/no_organization.html", status=403)


def _key_rows(actor: Actor, everyone: bool) -> list[dict[str, Any]]:
    assert actor.user is not None
    keys = api_keys_visible(organization=actor.organization, user=actor.user, everyone=everyone)
    return [
        {
            "id": key.pk,
            "prefix": key.prefix,
            "name": key.name,
            "owner": key.user.full_name or key.user.email,
            "own": key.user_id == actor.user.pk,
            "scopes": [str(SCOPE_NAMES.get(scope, scope)) for scope in key.scopes or []],
            "created_at": key.created_at,
            "last_used_at": key.last_used_at,
            "revoked_at": key.revoked_at,
        }
        for key in keys
    ]


def _list_page(
    request: HttpRequest, actor: Actor, form: ApiKeyForm, status: int = 200
) -> HttpResponse:
    everyone = actor.role in MEMBER_MANAGERS
    return render(
        request,
        "staff/apikeys/list.html",
        {
            "organization": actor.organization,
            "nav": "api-keys",
            "form": form,
            "keys": _key_rows(actor, everyone),
            "everyone": everyone,
        },
        status=status,
    )


@login_required
@never_cache
def page(request: HttpRequest) -> HttpResponse:
    """The viewer's keys (every key for owners and admins) and the form for a new one."""
    actor = actor_for_request(request)
    if actor is None or actor.user is None:
        return _no_organization(request)
    if request.method == "POST":
        form = ApiKeyForm(request.POST)
        if form.is_valid():
            try:
                issued = api_key_create(
                    user=actor.user,
                    organization=actor.organization,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    actor=actor,
                )
            except DomainError as error:
                form.add_error("scopes", error.message)
            else:
                request.session[SESSION_NEW_KEY] = {
                    "id": issued.api_key.pk,
                    "plaintext": issued.plaintext,
                }
                return redirect("staff:api-key-created")
        return _list_page(request, actor, form, status=400)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    return _list_page(request, actor, ApiKeyForm())


@login_required
@never_cache
@require_safe
def created(request: HttpRequest) -> HttpResponse:
    """The new key's full text, once: taken out of the session as it is shown."""
    actor = actor_for_request(request)
    if actor is None or actor.user is None:
        return _no_organization(request)
    new = request.session.pop(SESSION_NEW_KEY, None)
    api_key = (
        ApiKey.objects.filter(
            pk=new["id"], user=actor.user, organization=actor.organization
        ).first()
        if isinstance(new, dict)
        else None
    )
    if new is None or api_key is None:
        messages.info(
            request,
            _("A new key is shown only once, right after it is made. Make another if you need it."),
        )
        return redirect("staff:api-keys")
    return render(
        request,
        "staff/apikeys/created.html",
        {
            "organization": actor.organization,
            "nav": "api-keys",
            "plaintext": new["plaintext"],
            "key": api_key,
            "scopes": [str(SCOPE_NAMES.get(scope, scope)) for scope in api_key.scopes],
        },
    )


@login_required
@require_POST
def revoke(request: HttpRequest, api_key_id: int) -> HttpResponse:
    """Revoke a key: one's own, or (owners and admins) any of the organisation."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        api_key = api_key_revoke_by(actor=actor, api_key_id=api_key_id)
    except NotFound:
        return render(
            request, "staff/not_found.html", {"organization": actor.organization}, status=404
        )
    except DomainError as error:
        if error.status == 403:
            return render(
                request,
                "staff/team/forbidden.html",
                {
                    "organization": actor.organization,
                    "back_url": reverse("staff:api-keys"),
                    "message": _(
                        "Only an owner or an admin of the organisation may revoke another "
                        "member's key."
                    ),
                },
                status=403,
            )
        messages.info(request, _("That key was already revoked."))
        return redirect("staff:api-keys")
    messages.success(
        request, _("Key pmk_%(prefix)s_… revoked: it no longer works.") % {"prefix": api_key.prefix}
    )
    return redirect("staff:api-keys")
