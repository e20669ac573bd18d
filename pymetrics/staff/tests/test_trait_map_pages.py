"""The trait map pages: proposals by factor analysis, one proposal, its activation.

The population is built in bulk (as ``fitmodels/tests/test_trait_maps.py`` does):
each trait of map v1 is a latent normal factor and each metric ``0.7 x factor +
noise``, except that the data moves ``arrows.rt_mean_ms`` from decision making to
focus and reverses the sign of ``arrows.accuracy`` (in focus), so that the proposal has
metrics to add, remove and reverse. 240 people, 40 of them simulated. Every number
the pages show is checked against what the service stored (or, for the pages of one
proposal, the same analysis made once for the module and stored as the service does).
"""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest
from django.template.defaultfilters import floatformat
from django.test import Client
from django.urls import reverse

from pymetrics.accounts.models import AuditLog
from pymetrics.fitmodels.models import ProposalState, TraitMapProposal
from pymetrics.fitmodels.tests.world import store_metric_population
from pymetrics.psychometrics.inference import metric_z_scores
from pymetrics.psychometrics.norms import NormTableData, build_norms
from pymetrics.psychometrics.trait_map import TraitMap, load_trait_map
from pymetrics.scoring.models import NormPopulation, NormTable
from pymetrics.scoring.services import trait_map_version_get_or_create
from pymetrics.staff.pages import traitmaps

PEOPLE, SIMULATED = 240, 40
#: What the data changes against map v1: a metric moved, a metric's sign reversed.
MOVED, MOVED_FROM, MOVED_TO = "arrows.rt_mean_ms", "decision_making", "focus"
REVERSED = "arrows.accuracy"


# --- the world -----------------------------------------------------------------------------


def _metrics(trait_map: TraitMap, people: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    factors = {trait.name: rng.normal(size=people) for trait in trait_map.traits}
    columns = {}
    for trait in trait_map.traits:
        for metric in trait.metrics:
            owner = MOVED_TO if metric.key == MOVED else trait.name
            sign = -metric.sign if metric.key == REVERSED else metric.sign
            columns[metric.key] = sign * 0.7 * factors[owner] + rng.normal(
                scale=np.sqrt(0.51), size=people
            )
    return pd.DataFrame(columns)


def _norm_table(
    organization, metrics: pd.DataFrame | None = None, norms: dict | None = None
) -> NormTable:
    trait_map_row = trait_map_version_get_or_create(version=1)
    trait_map = TraitMap.from_dict(trait_map_row.definition)
    if norms is None:
        if metrics is None:
            metrics = _metrics(trait_map, PEOPLE, seed=3)
        norms = build_norms(metrics, trait_map).to_dict()
    return NormTable.objects.create(
        organization=organization,
        name="Reference",
        version=1,
        population=NormPopulation.SIMULATED,
        is_simulated=True,
        trait_map=trait_map_row,
        # activation builds a simulated table of as many bots: few keep the test fast
        n_attempts=3,
        data=norms,
    )


def _population(organization, people: int = PEOPLE) -> None:
    """The norm table and ``people`` completed candidates with every metric of map v1."""
    trait_map = TraitMap.from_dict(trait_map_version_get_or_create(version=1).definition)
    metrics = _metrics(trait_map, people, seed=3)
    _norm_table(organization, metrics)
    store_metric_population(organization, metrics, simulated=SIMULATED)


@pytest.fixture(scope="module")
def analysis() -> dict:
    """What ``trait_map_propose`` makes of ``_population``, computed once for the module.

    The same steps as the service (metric z against the norm table, then
    ``propose_trait_map``) without the database, so that the tests of a proposal's
    page need not store 240 people each; the propose tests go through the service.
    """
    from pymetrics.fitmodels.science.factors import propose_trait_map

    trait_map = load_trait_map(1)
    metrics = _metrics(trait_map, PEOPLE, seed=3)
    norms = build_norms(metrics, trait_map).to_dict()
    z = metric_z_scores(metrics, NormTableData.from_dict(norms))
    made = propose_trait_map(metric_z=z, current=trait_map, version=2)
    return {"norms": norms, "proposal": made.to_dict(), "definition": made.trait_map_dict()}


@pytest.fixture
def proposal(organization, admin, analysis) -> TraitMapProposal:
    """The module's proposal, stored as the service stores it (a proposal of the admin)."""
    table = _norm_table(organization, norms=analysis["norms"])
    stored = TraitMapProposal.objects.create(
        organization=organization,
        based_on=table.trait_map,
        proposal=analysis["proposal"],
        definition=analysis["definition"],
        n_people=PEOPLE,
        simulated_people=SIMULATED,
        created_by=admin,
    )
    stored.refresh_from_db()  # the numbers as stored (jsonb on PostgreSQL)
    return stored


# --- reading the pages ---------------------------------------------------------------------


def _rows(html: str, testid: str) -> list[str]:
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S)
    assert table is not None, f"no table {testid}"
    return re.findall(r"<tr\b.*?</tr>", table.group(0), re.S)


def _text(fragment: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))).strip()


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-cell="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found is not None, f"no cell {name}"
    return _text(found.group(1))


def _row_header(row: str) -> str:
    found = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
    assert found is not None, "no row header"
    return _text(found.group(1))


def _by(rows: list[str], attribute: str) -> dict[str, str]:
    found = {}
    for row in rows:
        match = re.search(rf'{attribute}="([^"]+)"', row)
        if match is not None:
            found[match.group(1)] = row
    return found


def _testid(html: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, f"no element {testid}"
    return _text(found.group(2))


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def _two(value: float) -> str:
    """Two decimals as the pages round them (half up, Django's floatformat)."""
    return str(floatformat(value, 2))


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_the_map_in_use_and_a_recruiter_reads_it_without_the_form(
    organization, recruiter_browser
):
    table = _norm_table(organization)

    response = recruiter_browser.get(reverse("staff:fit-trait-maps"))

    assert response.status_code == 200
    html = response.content.decode()
    assert _testid(html, "map-in-use-version") == "trait map v1"
    assert (
        f"Candidates are scored with trait map v1 (9 traits), against the norm table "
        f"{table.name} v{table.version}." in _text(html)
    )
    assert _testid(html, "proposals-empty") == "No trait map proposed yet."
    assert 'data-testid="propose-form"' not in html
    assert 'data-testid="read-only"' in html
    assert 'href="/staff/trait-maps/" aria-current="page">Trait maps</a>' in html


def test_without_a_norm_table_the_list_says_no_map_is_in_use(organization, admin_browser):
    html = admin_browser.get(reverse("staff:fit-trait-maps")).content.decode()

    assert 'data-testid="map-in-use-none"' in html
    assert 'data-testid="propose-form"' in html


def test_an_admin_proposes_and_the_list_and_the_audit_log_show_it(
    organization, admin, admin_browser
):
    _population(organization)

    response = admin_browser.post(reverse("staff:fit-trait-maps"), {"n_factors": ""})

    (proposal,) = TraitMapProposal.objects.filter(organization=organization)
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:fit-trait-map", args=[proposal.pk])
    assert (proposal.n_people, proposal.simulated_people) == (PEOPLE, SIMULATED)
    assert (proposal.based_on.version, proposal.state) == (1, ProposalState.PROPOSED)
    assert proposal.created_by == admin
    assert proposal.proposal["n_factors"] == 9
    entry = AuditLog.objects.get(action="trait_map.propose")
    assert (entry.actor, entry.object_id) == (admin, str(proposal.pk))
    assert entry.details == {"people": PEOPLE, "based_on": 1}

    html = admin_browser.get(reverse("staff:fit-trait-maps")).content.decode()
    (row,) = _by(_rows(html, "proposals-table"), "data-proposal-id").values()
    assert f'data-proposal-id="{proposal.pk}"' in row
    assert _cell(row, "created-by") == "Ada Admin"
    assert (_cell(row, "people"), _cell(row, "simulated")) == ("240", "40 simulated")
    assert (_cell(row, "factors"), _cell(row, "state")) == ("9", "Proposed")
    assert (_cell(row, "based-on"), _cell(row, "became")) == ("v1", "—")


@pytest.mark.parametrize(
    ("world", "posted", "message", "testid"),
    [
        (
            "none",
            "",
            "no norm table applies to this organisation yet: build one before training",
            "propose-errors",
        ),
        ("norms", "", "no completed candidates to analyse yet", "propose-errors"),
        (
            "population",
            "21",
            "cannot propose a trait map: n_factors must be between 1 and 20 for 21 metrics, got 21",
            "n_factors-errors",
        ),
        ("none", "0", "Ensure this value is greater than or equal to 1.", "n_factors-errors"),
    ],
    ids=["no-norm-table", "no-candidates", "too-many-factors", "zero-factors"],
)
def test_the_propose_form_shows_the_refusal_and_keeps_what_was_typed(
    organization, admin_browser, world, posted, message, testid
):
    if world == "norms":
        _norm_table(organization)
    elif world == "population":
        _population(organization, people=25)  # the number of factors is checked first

    response = admin_browser.post(reverse("staff:fit-trait-maps"), {"n_factors": posted})

    assert response.status_code == 400
    html = response.content.decode()
    assert _testid(html, testid) == message
    assert re.search(rf'<input[^>]*name="n_factors"[^>]*value="{posted}"', html) or not posted
    assert not TraitMapProposal.objects.exists()


def test_lower_roles_may_not_propose(organization, recruiter_browser, analyst_browser):
    _norm_table(organization)

    for browser in (recruiter_browser, analyst_browser):
        response = browser.post(reverse("staff:fit-trait-maps"), {"n_factors": ""})
        assert response.status_code == 403
        assert 'data-testid="forbidden"' in response.content.decode()
    assert not TraitMapProposal.objects.exists()


# --- a proposal ----------------------------------------------------------------------------


def test_the_proposal_page_shows_the_loadings_of_the_analysis(proposal, admin, admin_browser):
    analysis = proposal.proposal
    traits = {trait["name"]: trait for trait in analysis["traits"]}

    response = admin_browser.get(reverse("staff:fit-trait-map", args=[proposal.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    # the columns are the factors, named by their traits in map order (no new factor here)
    headers = re.findall(r'<th scope="col" class="num" data-factor="([^"]+)"', html)
    assert headers == [
        "attention",
        "decision_making",
        "effort",
        "emotion",
        "fairness",
        "focus",
        "generosity",
        "learning",
        "risk_tolerance",
    ]
    rows = _by(_rows(html, "loadings-table"), "data-metric")
    assert set(rows) == set(analysis["loadings"])
    assert len(rows) == 21
    proposed_trait = {m["key"]: name for name, t in traits.items() for m in t["metrics"]}
    for key, by_factor in analysis["loadings"].items():
        cells = dict(
            re.findall(r'<td class="num[^"]*" data-factor="([^"]+)">(.*?)</td>', rows[key], re.S)
        )
        assert {factor: _text(text) for factor, text in cells.items()} == {
            factor: _two(value) for factor, value in by_factor.items()
        }
        strong = set(re.findall(r'class="num tm-strong[^"]*" data-factor="([^"]+)"', rows[key]))
        assert strong == {f for f, value in by_factor.items() if abs(value) >= 0.3}
        joined = re.findall(r'class="num[^"]*tm-joined" data-factor="([^"]+)"', rows[key])
        assert joined == ([proposed_trait[key]] if key in proposed_trait else [])
    # the data moved one metric and reversed another: the table says so
    assert _cell(rows[MOVED], "current") == "Decision making (+)"
    assert _cell(rows[MOVED], "proposed") == "Focus (+)"
    assert _cell(rows[MOVED], "change") == "moves to another trait"
    assert _cell(rows[REVERSED], "current") == "Focus (+)"
    assert _cell(rows[REVERSED], "proposed") == "Focus (\N{MINUS SIGN})"
    assert _cell(rows[REVERSED], "change") == "sign reversed"
    assert _cell(rows["digits.forward_span"], "change") == "stays"
    entry = AuditLog.objects.get(action="trait_map_proposal.read")
    assert (entry.actor, entry.object_id) == (admin, str(proposal.pk))


def test_the_proposal_page_compares_each_trait_by_tuckers_congruence(proposal, admin_browser):
    analysis = proposal.proposal
    traits = {trait["name"]: trait for trait in analysis["traits"]}

    html = admin_browser.get(reverse("staff:fit-trait-map", args=[proposal.pk])).content.decode()

    rows = _by(_rows(html, "trait-table"), "data-trait")
    assert list(rows) == [trait["name"] for trait in analysis["traits"]]
    readings = {
        "equal": "equal to the current trait (φ ≥ 0.95)",
        "fair similarity": "fairly similar (φ 0.85 to 0.95)",
        "different": "different (φ below 0.85)",
    }
    for name, row in rows.items():
        trait = traits[name]
        assert _cell(row, "factor") == str(trait["factor"] + 1)
        assert _cell(row, "congruence") == f"{trait['congruence']:.3f}"
        assert _cell(row, "reading") == readings[trait["reading"]]
        assert _cell(row, "added") == (", ".join(trait["added"]) or "—")
        assert _cell(row, "removed") == (", ".join(trait["removed"]) or "—")
    # what the data changed, as the service found it
    assert traits[MOVED_FROM]["removed"] == [MOVED]
    assert traits[MOVED_TO]["added"] == [MOVED]
    assert traits[MOVED_TO]["sign_changed"] == [REVERSED]
    assert _cell(rows[MOVED_TO], "sign-changed") == REVERSED
    assert (traits[MOVED_FROM]["reading"], traits[MOVED_TO]["reading"]) == (
        "different",
        "different",
    )

    spec = _chart_spec(html, "trait-congruence")
    bars, fair, equal = spec["datasets"]
    assert bars["data"] == [trait["congruence"] for trait in analysis["traits"]]
    assert [point["y"] for point in fair["data"] + equal["data"]] == [0.85, 0.85, 0.95, 0.95]
    assert fair["xAxisID"] == equal["xAxisID"] == "reference"
    assert spec["labels"][1] == "Decision making"
    assert spec["simulated"] is True
    # the plain-language summary counts what the table shows
    counts = {r: sum(t["reading"] == r for t in traits.values()) for r in readings}
    summary = _testid(html, "summary")
    assert (
        "9 factors were extracted (varimax rotation) from the metric z-scores of 240 of the "
        "240 people analysed" in summary
    )
    assert (
        f"Of the 9 traits compared, {counts['equal']} are equal to the current map's, "
        f"{counts['fair similarity']} fairly similar and {counts['different']} different."
        in summary
    )
    assert (
        "Metrics: 1 would move to another trait, 0 not used by the current map would join "
        "one, 0 would be left out (no loading of 0.3 or more), and 1 would keep its trait "
        "with the sign reversed." in summary
    )
    assert _testid(html, "simulated-proposal").startswith(
        "simulated 40 of the 240 people analysed are bots with known parameters"
    )


def test_a_recruiter_reads_a_proposal_without_the_activate_button_and_may_not_activate(
    proposal, recruiter_browser, analyst_browser
):
    html = recruiter_browser.get(
        reverse("staff:fit-trait-map", args=[proposal.pk])
    ).content.decode()

    assert 'data-testid="activate-form"' not in html
    assert _testid(html, "read-only") == "Only an owner or an admin activates a trait map."
    assert "Activating stores this map as trait map v2" in _testid(html, "activate-explained")
    for browser in (recruiter_browser, analyst_browser):
        response = browser.post(reverse("staff:fit-trait-map-activate", args=[proposal.pk]))
        assert response.status_code == 403
    proposal.refresh_from_db()
    assert (proposal.state, proposal.activated_version) == (ProposalState.PROPOSED, None)


def test_another_organisations_proposal_is_not_found(proposal, other_browser):
    for url in (
        reverse("staff:fit-trait-map", args=[proposal.pk]),
        reverse("staff:fit-trait-map", args=[proposal.pk + 1000]),
    ):
        assert other_browser.get(url).status_code == 404
    response = other_browser.post(reverse("staff:fit-trait-map-activate", args=[proposal.pk]))
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PROPOSED
    # and its list shows none of them
    html = other_browser.get(reverse("staff:fit-trait-maps")).content.decode()
    assert 'data-testid="proposals-empty"' in html


def test_activating_puts_the_next_map_in_use_and_a_second_activation_is_refused(
    organization, proposal, admin, admin_browser
):
    url = reverse("staff:fit-trait-map-activate", args=[proposal.pk])

    response = admin_browser.post(url, follow=True)

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACTIVATED
    assert proposal.activated_version is not None
    assert proposal.activated_version.version == 2
    html = response.content.decode()
    assert response.redirect_chain == [(reverse("staff:fit-trait-map", args=[proposal.pk]), 302)]
    assert (
        "Trait map v2 is in use, with the norm table Acme Hiring reference (trait map v2) v1 "
        "built with it; every candidate's traits are being scored again." in _text(html)
    )
    assert _testid(html, "activated") == "Activated: this proposal became trait map v2."
    assert 'data-testid="activate-form"' not in html
    entry = AuditLog.objects.get(action="trait_map.activate")
    assert entry.actor == admin
    assert entry.details["trait_map_version"] == 2

    listing = admin_browser.get(reverse("staff:fit-trait-maps")).content.decode()
    assert _testid(listing, "map-in-use-version") == "trait map v2"
    row = _by(_rows(listing, "proposals-table"), "data-proposal-id")[str(proposal.pk)]
    assert (_cell(row, "state"), _cell(row, "became")) == ("Activated", "v2")

    # an older proposal, compared with v1, now says so, and would become v3
    older = TraitMapProposal.objects.create(
        organization=organization,
        based_on=proposal.based_on,
        proposal=proposal.proposal,
        definition=proposal.definition,
        n_people=proposal.n_people,
    )
    older_html = admin_browser.get(reverse("staff:fit-trait-map", args=[older.pk])).content
    assert _testid(older_html.decode(), "stale") == (
        "This proposal was compared with trait map v1; the map in use is now v2."
    )
    assert "as trait map v3," in _testid(older_html.decode(), "activate-explained")
    assert 'data-testid="stale"' not in html

    again = admin_browser.post(url)

    assert again.status_code == 409
    assert _testid(again.content.decode(), "refusal") == (
        "Refused this proposal was already activated"
    )


def test_the_page_reads_phi_as_the_science_module_does():
    from pymetrics.fitmodels.science import factors

    assert (traitmaps.CONGRUENCE_EQUAL, traitmaps.CONGRUENCE_FAIR) == (
        factors.CONGRUENCE_EQUAL,
        factors.CONGRUENCE_FAIR,
    )


def test_fewer_factors_than_traits_leave_a_trait_out_and_the_page_says_so(
    organization, admin_browser
):
    _population(organization)

    response = admin_browser.post(reverse("staff:fit-trait-maps"), {"n_factors": "8"})

    (proposal,) = TraitMapProposal.objects.filter(organization=organization)
    assert response.status_code == 302
    (left_out,) = [t for t in proposal.proposal["traits"] if t["factor"] is None]
    html = admin_browser.get(response["Location"]).content.decode()
    row = _by(_rows(html, "trait-table"), "data-trait")[left_out["name"]]
    assert (_cell(row, "factor"), _cell(row, "congruence"), _cell(row, "reading")) == (
        "—",
        "—",
        "—",
    )
    assert _cell(row, "metrics") == "none: not in the new map"
    assert len(re.findall(r'<th scope="col" class="num" data-factor=', html)) == 8
    label = _row_header(row)
    assert f"{label} would not be in the new map: no metric joins it." in _testid(html, "summary")
    assert len(_chart_spec(html, "trait-congruence")["labels"]) == 8


def test_the_list_reads_the_same_number_of_queries_for_one_proposal_or_many(
    proposal, admin_browser, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("staff:fit-trait-maps")
    with CaptureQueriesContext(connection) as one:
        admin_browser.get(url)
    for _ in range(3):
        TraitMapProposal.objects.create(
            organization=proposal.organization,
            based_on=proposal.based_on,
            proposal=proposal.proposal,
            definition=proposal.definition,
            n_people=proposal.n_people,
            created_by=proposal.created_by,
        )

    with django_assert_num_queries(len(one.captured_queries)):
        html = admin_browser.get(url).content.decode()

    assert len(_rows(html, "proposals-table")) == 1 + 4


def test_a_user_without_an_organisation_is_refused(proposal):
    from pymetrics.accounts.models import User

    loner = User.objects.create_user(email="lone@example.org", password="lonely horse battery")
    browser = Client()
    browser.force_login(loner)

    assert browser.get(reverse("staff:fit-trait-maps")).status_code == 403
    assert browser.get(reverse("staff:fit-trait-map", args=[proposal.pk])).status_code == 403
