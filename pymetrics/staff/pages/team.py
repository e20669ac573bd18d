"""Staff page: the organisation's team, their roles and two-factor state.

``staff:team`` lists the members. Owners and admins also change roles
(``staff:team-role``), remove members (``staff:team-remove``), clear a member's
two-factor set-up after a lost phone (``staff:team-two-factor-reset``) and add
people by e-mail address (``staff:team-add``); the rules (an admin never makes, changes or
removes an owner; the last owner stays; nobody removes themselves) are the
services' (:mod:`pymetrics.accounts.services`), which audit-log every change.

A person added without a password gets a one-time "set your password" link
(``staff:welcome``, Django's password-reset token: it stops working once used,
once they log in, or after ``PASSWORD_RESET_TIMEOUT``). The link is shown to the
one who added them, once, to pass on; like a new API key it crosses the redirect
in the session and is taken out when shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pymetrics.accounts.models import Role, User
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.selectors import TeamMember, membership_in_organization, team_members
from pymetrics.accounts.services import (
    MEMBER_MANAGERS,
    Actor,
    membership_add,
    membership_remove,
    membership_role_change,
)
from pymetrics.accounts.twofactor import two_factor_reset
from pymetrics.common.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

#: Session entry that carries a welcome link across the redirect to the team page.
SESSION_WELCOME = "staff_team_welcome"

ROLE_LABELS = {
    Role.OWNER: gettext_lazy("Owner"),
    Role.ADMIN: gettext_lazy("Admin"),
    Role.ANALYST: gettext_lazy("Analyst"),
    Role.RECRUITER: gettext_lazy("Recruiter"),
}


def assignable_roles(actor: Actor) -> list[str]:
    """Roles the actor may give: every role for an owner, all but owner for an admin."""
    if actor.role == Role.OWNER:
        return list(Role.values)
    if actor.role in MEMBER_MANAGERS:
        return [role for role in Role.values if role != Role.OWNER]
    return []


def _role_choices(roles: list[str]) -> list[tuple[str, Any]]:
    return [(role, ROLE_LABELS[Role(role)]) for role in roles]


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=gettext_lazy("Role"), initial=Role.RECRUITER)

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = _role_choices(roles)


def welcome_url(request: HttpRequest, user: User) -> str:
    """The absolute one-time link where ``user`` sets their password."""
    path = reverse(
        "staff:welcome",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )
    return request.build_absolute_uri(path)


def _no_organization(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/no_organization.html", status=403)


def _forbidden(request: HttpRequest, actor: Actor, message: str) -> HttpResponse:
    return render(
        request,
        "staff/team/forbidden.html",
        {"organization": actor.organization, "message": message, "back_url": reverse("staff:team")},
        status=403,
    )


def _not_found(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "staff/not_found.html", {"organization": actor.organization}, status=404)


def _row(actor: Actor, member: TeamMember, roles: list[str]) -> dict[str, Any]:
    membership = member.membership
    is_self = actor.user is not None and member.user.pk == actor.user.pk
    # an admin leaves owners alone; an owner's row offers every role
    may_manage = bool(roles) and (membership.role != Role.OWNER or actor.role == Role.OWNER)
    return {
        "id": membership.pk,
        "name": member.user.full_name,
        "email": member.user.email,
        "role": membership.role,
        "role_label": ROLE_LABELS.get(Role(membership.role), membership.role),
        "two_factor": member.two_factor,
        "pending": not member.user.has_usable_password(),
        "is_self": is_self,
        "can_change_role": may_manage,
        "can_remove": may_manage and not is_self,
        "can_reset_two_factor": may_manage and not is_self and member.two_factor,
        "role_choices": _role_choices(roles),
    }


def _team_page(
    request: HttpRequest, actor: Actor, add_form: MemberAddForm | None = None, status: int = 200
) -> HttpResponse:
    roles = assignable_roles(actor)
    manager = bool(roles)
    welcome = request.session.pop(SESSION_WELCOME, None) if status == 200 else None
    return render(
        request,
        "staff/team/team.html",
        {
            "organization": actor.organization,
            "nav": "team",
            "members": [
                _row(actor, m, roles) for m in team_members(organization=actor.organization)
            ],
            "can_manage": manager,
            "add_form": (add_form or MemberAddForm(roles=roles)) if manager else None,
            "welcome": welcome if isinstance(welcome, dict) else None,
        },
        status=status,
    )


@login_required
@never_cache
def page(request: HttpRequest) -> HttpResponse:
    """The members with their roles and two-factor state; the managers' forms."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    return _team_page(request, actor)


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    """Add someone by e-mail address; a new user gets a welcome link to pass on."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    roles = assignable_roles(actor)
    if not roles:
        return _forbidden(request, actor, _("Only an owner or an admin may add members."))
    form = MemberAddForm(request.POST, roles=roles)
    if not form.is_valid():
        return _team_page(request, actor, form, status=400)
    try:
        added = membership_add(
            actor=actor, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
        )
    except PermissionDenied:
        return _forbidden(request, actor, _("Only an owner may make someone an owner."))
    except Conflict:
        form.add_error("email", _("This person is already a member of the organisation."))
        return _team_page(request, actor, form, status=400)
    except DomainError as error:
        form.add_error("email", error.message)
        return _team_page(request, actor, form, status=400)
    user = added.membership.user
    if added.needs_password:
        request.session[SESSION_WELCOME] = {
            "email": user.email,
            "url": welcome_url(request, user),
        }
    else:
        messages.success(
            request,
            _("%(email)s was added; they log in with the password they already have.")
            % {"email": user.email},
        )
    return redirect("staff:team")


def _is_member(actor: Actor, membership_id: int) -> bool:
    try:
        membership_in_organization(organization=actor.organization, membership_id=membership_id)
    except NotFound:
        return False
    return True


@login_required
@require_POST
def role_change(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Give a member another role (owners and admins; the last owner stays)."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        membership = membership_role_change(
            actor=actor, membership_id=membership_id, role=request.POST.get("role", "")
        )
    except NotFound:
        return _not_found(request, actor)
    except PermissionDenied as error:
        message = (
            _("Only an owner may change an owner's role or make someone an owner.")
            if error.code == "owner_only"
            else _("Only an owner or an admin may change roles.")
        )
        return _forbidden(request, actor, message)
    except Conflict:
        messages.error(request, _("The organisation needs at least one owner."))
        return redirect("staff:team")
    except ValidationFailed:
        messages.error(request, _("Choose one of the roles."))
        return redirect("staff:team")
    messages.success(
        request,
        _("%(email)s is now %(role)s.")
        % {"email": membership.user.email, "role": ROLE_LABELS[Role(membership.role)]},
    )
    return redirect("staff:team")


@login_required
@require_POST
def remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Remove a member (never oneself, never the last owner); their keys stop working."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        revoked = membership_remove(actor=actor, membership_id=membership_id)
    except NotFound:
        return _not_found(request, actor)
    except PermissionDenied as error:
        messages_by_code = {
            "cannot_remove_self": _("You cannot remove yourself from the organisation."),
            "owner_only": _("Only an owner may remove an owner."),
        }
        message = messages_by_code.get(
            error.code, _("Only an owner or an admin may remove members.")
        )
        return _forbidden(request, actor, message)
    except Conflict:
        messages.error(request, _("The organisation's last owner cannot be removed."))
        return redirect("staff:team")
    messages.success(
        request,
        _("Member removed; %(count)s of their API keys revoked.") % {"count": revoked},
    )
    return redirect("staff:team")


@login_required
@require_POST
def two_factor_reset_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Clear a member's two-factor set-up (a lost phone); they enrol again at next log-in."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        membership = membership_in_organization(
            organization=actor.organization, membership_id=membership_id
        )
        two_factor_reset(actor=actor, user=membership.user)
    except NotFound:
        return _not_found(request, actor)
    except PermissionDenied as error:
        messages_by_code = {
            "two_factor_self_reset": _(
                "Reset your own two-factor set-up from the Account security page."
            ),
        }
        if error.code in messages_by_code:
            message = messages_by_code[error.code]
        elif actor.role in MEMBER_MANAGERS:
            message = _("Only an owner may reset an owner's two-factor set-up.")
        else:
            message = _("Only an owner or an admin may reset a member's two-factor set-up.")
        return _forbidden(request, actor, message)
    messages.success(
        request,
        _("Two-factor set-up of %(email)s cleared: they set it up again when they next log in.")
        % {"email": membership.user.email},
    )
    return redirect("staff:team")


class WelcomeView(auth_views.PasswordResetConfirmView):
    """Where a person added to a team sets their first password (a one-time link)."""

    template_name = "staff/team/welcome.html"
    success_url = reverse_lazy("staff:login")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set. Log in with your e-mail address."))
        return response
