"""Comparative analytics: up to ten candidates and groups, trait by trait, side by side.

A GET form picks candidates (``c=<candidate id>``) and groups (``g=assessment:<id>``
for an assessment's completed candidates, ``g=norm:<id>`` for the norm population
the scores are read against). The page draws the trait profiles as a radar chart
and as grouped bars with 90% intervals, and lists, in words too, every difference
whose intervals do not overlap. Ids of another organisation fail the form exactly
like unknown ones. Each candidate compared is an audited read of their data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from pymetrics.accounts.models import Organization
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.analytics.selectors.compare import (
    MAX_PROFILES,
    assessment_trait_profile,
    candidate_trait_profile,
    compare_choices,
    compare_traits,
    norm_group_trait_profile,
)
from pymetrics.analytics.stats.profiles import profile_differences, trait_axis_limit
from pymetrics.assessments.models import Assessment, Candidate
from pymetrics.scoring.labels import pole_label, trait_label
from pymetrics.scoring.models import NormTable
from pymetrics.staff.charts import chart, colour

ASSESSMENT_PREFIX = "assessment:"
NORM_PREFIX = "norm:"


def _candidate_label(candidate: Candidate) -> str:
    name = candidate.name or candidate.participant
    return name if name == candidate.participant else f"{name} ({candidate.participant})"


class CompareForm(forms.Form):
    """Candidates and groups to compare; at most :data:`MAX_PROFILES` in all."""

    c = forms.MultipleChoiceField(
        label=gettext_lazy("Candidates"),
        required=False,
        widget=forms.SelectMultiple(
            attrs={
                "size": 10,
                "data-testid": "compare-candidates",
                "aria-describedby": "compare-candidates-help",
            }
        ),
        help_text=gettext_lazy("The newest scored candidates; hold Ctrl (or ⌘) to pick several."),
    )
    g = forms.MultipleChoiceField(
        label=gettext_lazy("Groups"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-testid": "compare-groups"}),
    )

    def __init__(
        self,
        data: Any,
        *,
        candidates: list[Candidate],
        assessments: list[Assessment],
        norm_table: NormTable | None,
    ) -> None:
        super().__init__(data)
        self.candidates = {str(c.pk): c for c in candidates}
        self.assessments = {str(a.pk): a for a in assessments}
        self.norm_table = norm_table
        candidate_field = self.fields["c"]
        assert isinstance(candidate_field, forms.MultipleChoiceField)
        candidate_field.choices = [
            (str(c.pk), _candidate_label(c) + (f" · {_('simulated')}" if c.is_simulated else ""))
            for c in candidates
        ]
        group_choices = [
            (
                f"{ASSESSMENT_PREFIX}{a.pk}",
                ngettext(
                    "%(name)s: %(count)d completed candidate",
                    "%(name)s: %(count)d completed candidates",
                    getattr(a, "completed_count", 0),
                )
                % {"name": a.name, "count": getattr(a, "completed_count", 0)},
            )
            for a in assessments
        ]
        if norm_table is not None:
            group_choices.append(
                (
                    f"{NORM_PREFIX}{norm_table.pk}",
                    _("Norm group: %(name)s v%(version)s (%(n)d people%(simulated)s)")
                    % {
                        "name": norm_table.name,
                        "version": norm_table.version,
                        "n": norm_table.n_attempts,
                        "simulated": f", {_('simulated')}" if norm_table.is_simulated else "",
                    },
                )
            )
        group_field = self.fields["g"]
        assert isinstance(group_field, forms.MultipleChoiceField)
        group_field.choices = group_choices

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        count = len(cleaned.get("c") or []) + len(cleaned.get("g") or [])
        if count > MAX_PROFILES:
            raise forms.ValidationError(
                _(
                    "Compare at most %(max)d candidates and groups at once; %(count)d were "
                    "chosen. Remove %(extra)d and compare again."
                )
                % {"max": MAX_PROFILES, "count": count, "extra": count - MAX_PROFILES},
                code="too_many",
            )
        return cleaned


def _requested_ints(values: list[str], prefix: str = "") -> list[int]:
    ids = []
    for value in values:
        if prefix and not value.startswith(prefix):
            continue
        text = value.removeprefix(prefix)
        if text.isdigit() and len(text) < 12:
            ids.append(int(text))
    return ids


def _form(request: HttpRequest, organization: Organization) -> CompareForm:
    """The form, its choices being what exists in the organisation.

    Requested candidates and assessments of the organisation that the picker does
    not list (older candidates, assessments nobody completed yet) are valid choices
    too; any other id, another organisation's included, is not.
    """
    choices = compare_choices(organization=organization)
    candidates: list[Candidate] = choices["candidates"]
    assessments: list[Assessment] = choices["assessments"]
    listed_candidates = {c.pk for c in candidates}
    wanted = [i for i in _requested_ints(request.GET.getlist("c")) if i not in listed_candidates]
    if wanted:
        candidates = candidates + list(
            Candidate.objects.filter(organization=organization, pk__in=wanted)
        )
    listed_assessments = {a.pk for a in assessments}
    wanted = [
        i
        for i in _requested_ints(request.GET.getlist("g"), ASSESSMENT_PREFIX)
        if i not in listed_assessments
    ]
    if wanted:
        assessments = assessments + list(
            Assessment.objects.filter(organization=organization, pk__in=wanted)
        )
    data = request.GET if ("c" in request.GET or "g" in request.GET) else None
    return CompareForm(
        data, candidates=candidates, assessments=assessments, norm_table=choices["norm_table"]
    )


def _profiles(form: CompareForm, actor: Actor) -> list[dict[str, Any]]:
    """The chosen profiles in the order picked, candidates first, each with its label."""
    profiles = []
    for value in form.cleaned_data.get("c") or []:
        candidate = form.candidates[value]
        profile = dict(candidate_trait_profile(candidate=candidate))
        profile["label"] = _candidate_label(candidate)
        profiles.append(profile)
        audit_log_record(
            actor=actor,
            action="candidate.read",
            object_type="candidate",
            object_id=candidate.pk,
            details={"view": "compare"},
        )
    for value in form.cleaned_data.get("g") or []:
        if value.startswith(ASSESSMENT_PREFIX):
            assessment = form.assessments[value.removeprefix(ASSESSMENT_PREFIX)]
            profile = dict(assessment_trait_profile(assessment=assessment))
            profile["label"] = _("%(name)s: completed candidates") % {"name": assessment.name}
        else:
            assert form.norm_table is not None  # the only norm choice offered
            profile = dict(norm_group_trait_profile(norm_table=form.norm_table))
            profile["label"] = _("Norm group: %(name)s v%(version)s") % {
                "name": form.norm_table.name,
                "version": form.norm_table.version,
            }
        profiles.append(profile)
    return profiles


def _z(value: float | None) -> str:
    return "—" if value is None else str(floatformat(value, 2))


def difference_sentences(
    profiles: list[dict[str, Any]], differences: list[dict[str, Any]], poles: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Each difference in words: who lies further towards which pole, with both intervals."""
    sentences = []
    for difference in differences:
        trait = difference["trait"]
        higher = profiles[difference["higher"]]
        lower = profiles[difference["lower"]]
        a = higher["traits"][trait]
        b = lower["traits"][trait]
        sentences.append(
            {
                **difference,
                "text": _(
                    "%(trait)s: %(higher)s lies further towards %(pole)s than %(lower)s "
                    "(z %(a)s, 90%% interval %(a_low)s to %(a_high)s, against z %(b)s, "
                    "%(b_low)s to %(b_high)s)."
                )
                % {
                    "trait": trait_label(trait),
                    "higher": higher["label"],
                    "lower": lower["label"],
                    "pole": pole_label(poles[trait][0]),
                    "a": _z(a["value"]),
                    "a_low": _z(a["low"]),
                    "a_high": _z(a["high"]),
                    "b": _z(b["value"]),
                    "b_low": _z(b["low"]),
                    "b_high": _z(b["high"]),
                },
            }
        )
    return sentences


def _cell(profile: dict[str, Any], trait: str, field: str) -> Any:
    return (profile["traits"].get(trait) or {}).get(field)


def radar_chart(
    profiles: list[dict[str, Any]], traits: list[str], highlighted: set[tuple[int, str]]
) -> dict[str, Any]:
    labels = [trait_label(t) for t in traits]
    values = [_cell(p, t, "value") for p in profiles for t in traits]
    limit = trait_axis_limit(values)
    return chart(
        "compare-radar",
        kind="radar",
        title=_("Trait profiles (z against the benchmark)"),
        summary=_("Enlarged points mark traits where a profile differs beyond the intervals."),
        labels=labels,
        datasets=[
            {
                "label": profile["label"],
                "data": [_cell(profile, t, "value") for t in traits],
                "borderColor": colour(i),
                "backgroundColor": colour(i, 0.08),
                "pointBackgroundColor": colour(i),
                "pointRadius": [6 if (i, t) in highlighted else 3 for t in traits],
                "borderWidth": 2,
                "spanGaps": True,
            }
            for i, profile in enumerate(profiles)
        ],
        columns=[_("Trait"), *[p["label"] for p in profiles]],
        rows=[
            [label, *[_cell(p, t, "value") for p in profiles]]
            for label, t in zip(labels, traits, strict=True)
        ],
        options={
            "scales": {
                "r": {
                    "min": -limit,
                    "max": limit,
                    "ticks": {"stepSize": 1, "backdropColor": "rgba(255,255,255,0.8)"},
                }
            }
        },
        simulated=any(p["simulated"] for p in profiles),
        size="tall",
    )


def bars_chart(
    profiles: list[dict[str, Any]], traits: list[str], highlighted: set[tuple[int, str]]
) -> dict[str, Any]:
    """Grouped bars of z (or mean z) per trait, each with its 90% interval over it."""
    labels = [trait_label(t) for t in traits]
    ends = [
        _cell(p, t, field) for p in profiles for t in traits for field in ("value", "low", "high")
    ]
    limit = trait_axis_limit(ends)
    datasets: list[dict[str, Any]] = []
    for i, profile in enumerate(profiles):
        marked = [(i, t) in highlighted for t in traits]
        datasets.append(
            {
                "type": "bar",
                "label": profile["label"],
                "data": [_cell(profile, t, "value") for t in traits],
                "backgroundColor": colour(i, 0.7),
                "borderColor": ["#1f2933" if m else colour(i) for m in marked],
                "borderWidth": [3 if m else 1 for m in marked],
                "stack": f"profile-{i}",
                "barPercentage": 0.9,
                "order": 2,
            }
        )
        datasets.append(
            {
                "type": "bar",
                "label": _("%(label)s: 90%% interval") % {"label": profile["label"]},
                "data": [
                    [_cell(profile, t, "low"), _cell(profile, t, "high")]
                    if _cell(profile, t, "low") is not None
                    else None
                    for t in traits
                ],
                "backgroundColor": "rgba(31, 41, 51, 0.8)",
                "stack": f"profile-{i}",
                "barPercentage": 0.22,
                "order": 1,
            }
        )
    rows = [
        [
            profile["label"],
            trait_label(t),
            _cell(profile, t, "value"),
            _cell(profile, t, "low"),
            _cell(profile, t, "high"),
            _cell(profile, t, "n"),
            _("yes") if (i, t) in highlighted else "",
        ]
        for i, profile in enumerate(profiles)
        for t in traits
    ]
    return chart(
        "compare-bars",
        kind="bar",
        title=_("Mean z per trait with 90% intervals"),
        summary=_(
            "Candidates: their z with its 90% interval. Groups: the mean z with the 90% "
            "interval of the mean. Outlined bars differ from another profile beyond the "
            "intervals. Colours as in the radar chart."
        ),
        labels=labels,
        datasets=datasets,
        columns=[
            _("Profile"),
            _("Trait"),
            _("z (mean z for groups)"),
            _("90% interval, low"),
            _("90% interval, high"),
            _("n"),
            _("Differs beyond the intervals"),
        ],
        rows=rows,
        options={
            "plugins": {"legend": {"display": False}},
            "scales": {
                "y": {
                    "stacked": False,
                    "min": -limit,
                    "max": limit,
                    "title": {"display": True, "text": _("z against the benchmark")},
                },
                "x": {"ticks": {"autoSkip": False}},
            },
        },
        simulated=any(p["simulated"] for p in profiles),
        size="tall",
    )


@login_required
@require_safe
def page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return render(request, "staff/no_organization.html", status=403)
    form = _form(request, actor.organization)
    scale = compare_traits(organization=actor.organization)
    traits = [t["trait"] for t in scale["traits"]]
    poles = {t["trait"]: t["poles"] for t in scale["traits"]}
    context: dict[str, Any] = {
        "organization": actor.organization,
        "nav": "compare",
        "form": form,
        "scale": scale,
        "max_profiles": MAX_PROFILES,
        "profiles": [],
    }
    if form.is_bound and form.is_valid():
        profiles = _profiles(form, actor)
        if profiles:
            differences = profile_differences([p["traits"] for p in profiles], traits)
            highlighted = {
                (d[side], d["trait"]) for d in differences for side in ("higher", "lower")
            }
            context.update(
                {
                    "profiles": [
                        {
                            **p,
                            "colour": colour(i),
                            "scored_traits": len(p["traits"]),
                        }
                        for i, p in enumerate(profiles)
                    ],
                    "differences": difference_sentences(profiles, differences, poles),
                    "radar": radar_chart(profiles, traits, highlighted),
                    "bars": bars_chart(profiles, traits, highlighted),
                }
            )
    return render(request, "staff/compare.html", context)
