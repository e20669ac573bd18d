"""Staff pages of adaptive trait maps: proposals made by factor analysis, and their activation.

``staff:fit-trait-maps`` lists the organisation's trait map proposals (when, by
whom, from how many people, the map each was compared with and the version it
became) next to the trait map in use, and offers owners and admins the form that
proposes one (``trait_map_propose``: a varimax factor analysis of the completed
candidates' metric z-scores, run in the request). ``staff:fit-trait-map`` shows one
proposal: the loadings (metrics x factors, each factor named by the trait it was
matched to), Tucker's congruence of each proposed trait with the current one, the
metrics each trait gains and loses, and the button that activates it
(``trait_map_proposal_activate``: the next trait map version, a norm table built
with it, every candidate's traits scored again).

Everything is read within the viewer's organisation: another organisation's
proposal answers the not-found page (404), exactly like an unknown one. Only owners
and admins propose and activate; the others read the same pages without the forms,
and a POST of theirs is refused with 403. A proposal's page is audit-logged on every
read, as a model version's is: it shows figures computed from candidates' data.
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
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.common.errors import DomainError, PermissionDenied
from pymetrics.fitmodels.models import ProposalState, TraitMapProposal
from pymetrics.fitmodels.selectors import trait_map_proposal_get, trait_map_proposal_list
from pymetrics.fitmodels.trait_map_services import trait_map_proposal_activate, trait_map_propose
from pymetrics.scoring.labels import trait_label
from pymetrics.scoring.models import NormTable
from pymetrics.scoring.selectors import current_norm_table, next_trait_map_version
from pymetrics.staff.charts import REFERENCE_AXIS, chart, colour, reference_line
from pymetrics.staff.pages.fitmodels import (
    UNRULED_COLOUR,
    forbidden_page,
    is_manager,
    no_organization_page,
    number_text,
    organization_object,
    percent_text,
)

#: Lorenzo-Seva & ten Berge (2006), as ``pymetrics.fitmodels.science.factors`` reads phi
#: (CONGRUENCE_EQUAL, CONGRUENCE_FAIR; a test keeps them equal). Not imported from
#: there: that module loads scikit-learn, which web processes load only to propose.
CONGRUENCE_EQUAL = 0.95
CONGRUENCE_FAIR = 0.85
#: Proposals listed (newest first); the count covers all.
PROPOSALS_SHOWN = 100

STATE_LABELS = {
    ProposalState.PROPOSED: gettext_lazy("Proposed"),
    ProposalState.ACTIVATED: gettext_lazy("Activated"),
    ProposalState.DISCARDED: gettext_lazy("Discarded"),
}
#: The readings ``congruence_reading`` stores, in words (neutral: a trait whose metrics
#: cluster differently here is a finding about this population, not a fault).
READING_LABELS = {
    "equal": gettext_lazy("equal to the current trait (φ ≥ 0.95)"),
    "fair similarity": gettext_lazy("fairly similar (φ 0.85 to 0.95)"),
    "different": gettext_lazy("different (φ below 0.85)"),
}
#: Bar colours of the congruence chart: one hue per reading, grey where none was computed.
READING_COLOURS = {"equal": colour(0), "fair similarity": colour(4), "different": colour(1)}
NO_READING_COLOUR = UNRULED_COLOUR
#: What a proposal does to a metric, against the map it was compared with.
CHANGE_LABELS = {
    "stays": gettext_lazy("stays"),
    "moves": gettext_lazy("moves to another trait"),
    "joins": gettext_lazy("joins a trait"),
    "left_out": gettext_lazy("left out"),
    "sign_reversed": gettext_lazy("sign reversed"),
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))  # type: ignore[call-overload]


def reading_label(reading: str | None) -> str:
    if reading is None:
        return _("not compared")
    return str(READING_LABELS.get(reading, reading))


def _user_label(user: Any) -> str:
    if user is None:
        return _("the platform")
    return str(user.full_name or user.email)


def _sign_text(sign: int | None) -> str:
    return "" if sign is None else ("+" if sign > 0 else "\N{MINUS SIGN}")


def _factor_label(trait: dict[str, Any]) -> str:
    """A proposed trait's column: the current trait's name, or a new factor's placeholder."""
    if trait.get("new"):
        return _("%(name)s (new)") % {"name": trait["name"]}
    return trait_label(trait["name"])


# --- reads ---------------------------------------------------------------------------------


def map_in_use(table: NormTable | None) -> dict[str, Any] | None:
    """The trait map (and norm table) the organisation's candidates are scored with now."""
    if table is None:
        return None
    return {
        "version": table.trait_map.version,
        "traits": len(table.trait_map.definition.get("traits", [])),
        "norm_table": table.name,
        "norm_table_version": table.version,
        "shared": table.organization_id is None,
        "simulated": table.is_simulated,
    }


# --- words, rows and charts -----------------------------------------------------------------


def proposal_row(proposal: TraitMapProposal) -> dict[str, Any]:
    """One proposal as the list shows it."""
    analysis = proposal.proposal or {}
    return {
        "id": proposal.pk,
        "url": reverse("staff:fit-trait-map", args=[proposal.pk]),
        "created_at": proposal.created_at,
        "created_by": _user_label(proposal.created_by),
        "n_people": proposal.n_people,
        "n_used": analysis.get("n_used"),
        "simulated_people": proposal.simulated_people,
        "n_factors": analysis.get("n_factors"),
        "state": proposal.state,
        "state_label": state_label(proposal.state),
        "based_on": proposal.based_on.version,
        "became": proposal.activated_version.version if proposal.activated_version else None,
    }


def factor_columns(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The loadings' columns in factor order (the current map's trait order, new ones last).

    Taken from the traits list, not from the keys of ``loadings``: jsonb does not keep
    the order of an object's keys.
    """
    columns = [trait for trait in analysis.get("traits", []) if trait.get("factor") is not None]
    columns.sort(key=lambda trait: trait["factor"])
    return [
        {
            "name": trait["name"],
            "label": _factor_label(trait),
            "factor": trait["factor"],
            "new": bool(trait.get("new")),
        }
        for trait in columns
    ]


def _current_traits(definition: dict[str, Any]) -> dict[str, tuple[str, int]]:
    """``game.metric`` -> (trait, sign) in a stored trait map definition."""
    return {
        f"{metric['game']}.{metric['metric']}": (trait["name"], int(metric["sign"]))
        for trait in definition.get("traits", [])
        for metric in trait.get("metrics", [])
    }


def loading_rows(
    analysis: dict[str, Any], current_definition: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per metric analysed: its loading on each factor, its current and proposed trait.

    Rows are grouped by the proposed trait, in column order and by |loading| within
    it, so that the strong loadings form blocks; metrics that join no trait come last.
    A loading is strong at |loading| >= the proposal's ``min_loading`` (0.3).
    """
    columns = factor_columns(analysis)
    position = {column["name"]: index for index, column in enumerate(columns)}
    min_loading = float(analysis.get("min_loading", 0.3))
    proposed = {
        metric["key"]: (trait["name"], int(metric["sign"]))
        for trait in analysis.get("traits", [])
        for metric in trait.get("metrics", [])
    }
    current = _current_traits(current_definition)
    labels = {trait["name"]: _factor_label(trait) for trait in analysis.get("traits", [])}
    ordered = []
    for key, by_factor in analysis.get("loadings", {}).items():
        joins = proposed.get(key)
        was = current.get(key)
        change = _change(was, joins)
        cells = [
            {
                "factor": column["name"],
                "value": by_factor.get(column["name"]),
                "text": number_text(by_factor.get(column["name"]), 2),
                "strong": abs(by_factor.get(column["name"]) or 0.0) >= min_loading,
                "joined": joins is not None and joins[0] == column["name"],
            }
            for column in columns
        ]
        row = {
            "metric": key,
            "cells": cells,
            "current": trait_label(was[0]) if was else None,
            "current_sign": _sign_text(was[1]) if was else "",
            "proposed": labels.get(joins[0], joins[0]) if joins else None,
            "proposed_sign": _sign_text(joins[1]) if joins else "",
            "change": change,
            "change_label": str(CHANGE_LABELS.get(change, "")),
        }
        if joins is None:
            order = (len(columns) + 1, 0.0, key)
        else:
            order = (
                position.get(joins[0], len(columns)),
                -abs(by_factor.get(joins[0]) or 0.0),
                key,
            )
        ordered.append((order, row))
    ordered.sort(key=lambda item: item[0])
    return [row for _order, row in ordered]


def _change(was: tuple[str, int] | None, joins: tuple[str, int] | None) -> str:
    """What the proposal does to a metric (a key of :data:`CHANGE_LABELS`, or "")."""
    if was is None and joins is None:
        return ""
    if was is None:
        return "joins"
    if joins is None:
        return "left_out"
    if was[0] != joins[0]:
        return "moves"
    if was[1] != joins[1]:
        return "sign_reversed"
    return "stays"


def trait_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """Each proposed trait: the factor matched to it, phi and its reading, metrics in and out."""
    rows = []
    for trait in analysis.get("traits", []):
        phi = trait.get("congruence")
        factor = trait.get("factor")
        rows.append(
            {
                "name": trait["name"],
                "label": _factor_label(trait),
                "new": bool(trait.get("new")),
                "factor": None if factor is None else factor + 1,
                "congruence": phi,
                "congruence_text": number_text(phi, 3),
                "reading": trait.get("reading"),
                "reading_label": reading_label(trait.get("reading")) if phi is not None else "—",
                "variance_text": percent_text(trait.get("variance_explained")),
                "metrics": [
                    f"{metric['key']} ({_sign_text(metric['sign'])})"
                    for metric in trait.get("metrics", [])
                ],
                "added": list(trait.get("added", [])),
                "removed": list(trait.get("removed", [])),
                "sign_changed": list(trait.get("sign_changed", [])),
                "dropped": not trait.get("metrics"),
            }
        )
    return rows


def congruence_chart(rows: list[dict[str, Any]], simulated: bool) -> dict[str, Any]:
    """Tucker's phi per trait with the two lines Lorenzo-Seva & ten Berge (2006) read it by."""
    compared = [row for row in rows if row["congruence"] is not None]
    labels = [row["label"] for row in compared]
    return chart(
        "trait-congruence",
        kind="bar",
        title=_("Tucker's congruence with the current map, per trait"),
        summary=_(
            "Tucker's φ between each proposed trait's loadings and the current trait's signed "
            "metrics: 1 means the same metrics with the same signs and nothing else. Read as "
            "Lorenzo-Seva & ten Berge (2006): %(equal)s or more, the traits can be taken as "
            "equal; %(fair)s to %(equal)s, a fair similarity; below %(fair)s, different."
        )
        % {"equal": CONGRUENCE_EQUAL, "fair": CONGRUENCE_FAIR},
        labels=labels,
        datasets=[
            {
                "type": "bar",
                "label": _("Tucker's φ"),
                "data": [row["congruence"] for row in compared],
                "backgroundColor": [
                    READING_COLOURS.get(row["reading"], NO_READING_COLOUR) for row in compared
                ],
                "maxBarThickness": 40,
                "grouped": False,
                "order": 2,
            },
            reference_line(
                _("%(value)s: fair similarity from here") % {"value": CONGRUENCE_FAIR},
                CONGRUENCE_FAIR,
                colour=colour(7, 0.6),
                dash=[6, 4],
            ),
            reference_line(
                _("%(value)s: equal from here") % {"value": CONGRUENCE_EQUAL},
                CONGRUENCE_EQUAL,
                colour=colour(7),
                dash=[2, 3],
            ),
        ],
        options={
            "scales": {
                "y": {
                    "suggestedMin": 0,
                    "max": 1,
                    "title": {"display": True, "text": _("Tucker's φ")},
                },
                **REFERENCE_AXIS,
            }
        },
        columns=[_("Trait"), _("Tucker's φ"), _("Reading"), _("Variance explained")],
        rows=[
            [row["label"], row["congruence"], row["reading_label"], row["variance_text"]]
            for row in compared
        ],
        simulated=simulated,
    )


def summary_sentences(
    analysis: dict[str, Any], traits: list[dict[str, Any]], metrics: list[dict[str, Any]]
) -> list[str]:
    """The proposal in a few plain sentences: how it was made, how far it is from the map."""
    sentences = [
        _(
            "%(factors)s factors were extracted (varimax rotation) from the metric z-scores of "
            "%(used)s of the %(people)s people analysed (those with every metric present), and "
            "each was matched to one trait of trait map v%(version)s."
        )
        % {
            "factors": analysis.get("n_factors"),
            "used": analysis.get("n_used"),
            "people": analysis.get("n_people"),
            "version": analysis.get("based_on_version"),
        }
    ]
    compared = [row for row in traits if row["congruence"] is not None]
    if compared:
        counts = {
            reading: sum(row["reading"] == reading for row in compared)
            for reading in ("equal", "fair similarity", "different")
        }
        sentences.append(
            ngettext(
                "Of the %(n)s trait compared, %(equal)s is equal to the current map's, "
                "%(fair)s fairly similar and %(different)s different.",
                "Of the %(n)s traits compared, %(equal)s are equal to the current map's, "
                "%(fair)s fairly similar and %(different)s different.",
                len(compared),
            )
            % {
                "n": len(compared),
                "equal": counts["equal"],
                "fair": counts["fair similarity"],
                "different": counts["different"],
            }
        )
    changes = {
        change: sum(row["change"] == change for row in metrics)
        for change in ("moves", "joins", "left_out", "sign_reversed")
    }
    if not any(changes.values()):
        sentences.append(_("Every metric stays in its trait with the same sign."))
    else:
        sentences.append(
            _(
                "Metrics: %(moved)s would move to another trait, %(joined)s not used by the "
                "current map would join one, %(left)s would be left out (no loading of "
                "%(min)s or more), and %(reversed)s would keep its trait with the sign reversed."
            )
            % {
                "moved": changes["moves"],
                "joined": changes["joins"],
                "left": changes["left_out"],
                "min": analysis.get("min_loading", 0.3),
                "reversed": changes["sign_reversed"],
            }
        )
    dropped = [row["label"] for row in traits if row["dropped"]]
    if dropped:
        sentences.append(
            ngettext(
                "%(traits)s would not be in the new map: no metric joins it.",
                "%(traits)s would not be in the new map: no metric joins them.",
                len(dropped),
            )
            % {"traits": ", ".join(dropped)}
        )
    return sentences


# --- forms ---------------------------------------------------------------------------------


class ProposeForm(forms.Form):
    n_factors = forms.IntegerField(
        required=False,
        min_value=1,
        label=gettext_lazy("Number of factors"),
        help_text=gettext_lazy(
            "Leave empty for as many as the map in use has traits. It must be less than the "
            "number of metrics analysed."
        ),
    )


# --- views ---------------------------------------------------------------------------------


def _list_page(
    request: HttpRequest, actor: Actor, *, form: ProposeForm | None = None, status: int = 200
) -> HttpResponse:
    proposals = trait_map_proposal_list(organization_id=actor.organization.pk)
    table = current_norm_table(organization_id=actor.organization.pk)
    return render(
        request,
        "staff/fitmodels/trait_maps.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "proposals": [proposal_row(p) for p in proposals[:PROPOSALS_SHOWN]],
            "proposals_total": proposals.count(),
            "proposals_shown": PROPOSALS_SHOWN,
            "in_use": map_in_use(table),
            "form": form or ProposeForm(),
            "can_manage": is_manager(actor),
        },
        status=status,
    )


@login_required
def list_page(request: HttpRequest) -> HttpResponse:
    """The organisation's proposals, the map in use, and (owners, admins) the propose form."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    if request.method in ("GET", "HEAD"):
        return _list_page(request, actor)
    if request.method != "POST":
        return HttpResponse(status=405)
    if not is_manager(actor):
        return forbidden_page(request, actor)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        return _list_page(request, actor, form=form, status=400)
    try:
        proposal = trait_map_propose(
            actor=actor,
            organization=actor.organization,
            n_factors=form.cleaned_data["n_factors"],
        )
    except PermissionDenied as error:
        return forbidden_page(request, actor, error.message)
    except DomainError as error:
        field = "n_factors" if "n_factors" in error.message else None
        form.add_error(field, error.message)
        return _list_page(request, actor, form=form, status=error.status)
    messages.success(
        request,
        _("Trait map proposed from %(people)s people: compare it with the map in use below.")
        % {"people": proposal.n_people},
    )
    return redirect("staff:fit-trait-map", proposal_id=proposal.pk)


def _detail_page(
    request: HttpRequest,
    actor: Actor,
    proposal: TraitMapProposal,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    analysis = proposal.proposal or {}
    simulated = proposal.simulated_people > 0
    audit_log_record(
        actor=actor,
        action="trait_map_proposal.read",
        object_type="traitmapproposal",
        object_id=proposal.pk,
        details={"people": proposal.n_people},
    )
    traits = trait_rows(analysis)
    metrics = loading_rows(analysis, proposal.based_on.definition)
    table = current_norm_table(organization_id=actor.organization.pk)
    in_use = map_in_use(table)
    pending = proposal.state == ProposalState.PROPOSED
    return render(
        request,
        "staff/fitmodels/trait_map.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "proposal": proposal,
            "row": proposal_row(proposal),
            "analysis": analysis,
            "simulated": simulated,
            "summary": summary_sentences(analysis, traits, metrics),
            "notes": analysis.get("notes", []),
            "columns": factor_columns(analysis),
            "metrics": metrics,
            "traits": traits,
            "unassigned": analysis.get("unassigned", []),
            "not_analysed": analysis.get("not_analysed", []),
            "min_loading": f"{float(analysis.get('min_loading', 0.3)):g}",
            "chart": congruence_chart(traits, simulated),
            "in_use": in_use,
            # compared with a map no longer in use: worth knowing before activating it
            "stale": pending and bool(in_use and in_use["version"] != proposal.based_on.version),
            "next_version": next_trait_map_version() if pending else None,
            "refusal": refusal,
            "can_manage": is_manager(actor),
            "can_activate": pending,
        },
        status=status,
    )


@login_required
@require_safe
def detail_page(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """A proposal: loadings, congruence per trait, metrics in and out, and activation."""
    found = organization_object(request, trait_map_proposal_get, proposal_id=proposal_id)
    if isinstance(found, HttpResponse):
        return found
    actor, proposal = found
    return _detail_page(request, actor, proposal)


@login_required
@require_POST
def activate(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Put the proposed map in use; a refusal is shown on the proposal's page."""
    found = organization_object(request, trait_map_proposal_get, proposal_id=proposal_id)
    if isinstance(found, HttpResponse):
        return found
    actor, proposal = found
    if not is_manager(actor):
        return forbidden_page(request, actor)
    try:
        table = trait_map_proposal_activate(actor=actor, proposal=proposal)
    except PermissionDenied as error:
        return forbidden_page(request, actor, error.message)
    except DomainError as error:
        proposal.refresh_from_db()
        return _detail_page(request, actor, proposal, refusal=error.message, status=error.status)
    messages.success(
        request,
        _(
            "Trait map v%(version)s is in use, with the norm table %(table)s v%(table_version)s "
            "built with it; every candidate's traits are being scored again."
        )
        % {
            "version": table.trait_map.version,
            "table": table.name,
            "table_version": table.version,
        },
    )
    return redirect("staff:fit-trait-map", proposal_id=proposal.pk)
