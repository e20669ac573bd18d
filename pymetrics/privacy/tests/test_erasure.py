"""Erasure: every row about the candidate goes, nothing about anyone else changes.

The model graph is walked from Candidate: any model that refers to a candidate,
directly or through a chain of relations (an attempt, a game session, a metric
set...), must have an erasure rule, so a model added later without one fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.apps.registry import Apps
from django.core.files.storage import storages
from django.db import models
from django.test.utils import isolate_apps

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.assessments.models import Attempt, Candidate
from pymetrics.common.errors import NotFound, PermissionDenied, ValidationFailed
from pymetrics.common.versions import (
    assessment_scope,
    candidate_scope,
    organization_scope,
    versions,
)
from pymetrics.fitmodels.models import FitScore
from pymetrics.privacy.models import ErasureRecord
from pymetrics.privacy.services import ERASURE_RULES, candidate_erase
from pymetrics.privacy.tests.conftest import ERIN_EMAIL, ERIN_NAME, REVIEW_NOTE, actor_of
from pymetrics.scoring.models import NormTable, TraitScore

# --- the model graph -----------------------------------------------------------------------------


def models_about_candidates(registry: Apps | None = None) -> set[type[models.Model]]:
    """Candidate and every concrete model related to it through forward relations."""
    everything = [
        model
        for model in [
            *apps.get_models(include_auto_created=True),
            *(registry.get_models(include_auto_created=True) if registry else []),
        ]
        if not model._meta.proxy
    ]
    personal: set[type[models.Model]] = {Candidate}
    grown = True
    while grown:
        grown = False
        for model in everything:
            if model in personal:
                continue
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model in personal:
                    personal.add(model)
                    grown = True
                    break
    return personal


def _lookup_target(label: str, lookup: str) -> type[models.Model]:
    model: Any = apps.get_model(label)
    if lookup == "pk":
        return model
    for part in lookup.split("__"):
        model = model._meta.get_field(part).related_model
    return model


def test_every_model_about_candidates_has_an_erasure_rule() -> None:
    covered = {rule.model for rule in ERASURE_RULES}

    found = {model._meta.label for model in models_about_candidates()}

    assert sorted(found - covered) == []
    assert sorted(covered - found) == []
    # and each rule's lookup leads from its model to the candidate
    for rule in ERASURE_RULES:
        assert _lookup_target(rule.model, rule.lookup) is Candidate, rule


def test_a_model_added_later_without_a_rule_is_caught() -> None:
    with isolate_apps("pymetrics.privacy") as registry:

        class CandidateNote(models.Model):
            attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE)

            class Meta:
                app_label = "privacy"

            def __str__(self) -> str:
                return f"note {self.pk}"

        class NoteReply(models.Model):
            note = models.ForeignKey(CandidateNote, on_delete=models.CASCADE)

            class Meta:
                app_label = "privacy"

            def __str__(self) -> str:
                return f"reply {self.pk}"

        found = {m._meta.label for m in models_about_candidates(registry)}

    assert {"privacy.CandidateNote", "privacy.NoteReply"} <= found
    assert "privacy.NoteReply" not in {rule.model for rule in ERASURE_RULES}


# --- searching the whole database ----------------------------------------------------------------

_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def database_places_holding(*needles: str) -> set[tuple[str, str]]:
    """(model, field) of every text, JSON or binary column holding one of ``needles``.

    Every table Django knows (auto-created many-to-many tables too); encrypted
    columns are read decrypted, so an encrypted copy is found like a plain one.
    """
    wanted = [needle.lower() for needle in needles]
    found: set[tuple[str, str]] = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, _TEXT_FIELDS)]
        if not fields:
            continue
        rows = model._base_manager.values_list(*[f.attname for f in fields])
        for row in rows.iterator():
            for field, value in zip(fields, row, strict=True):
                text = _as_text(value).lower()
                if any(needle in text for needle in wanted):
                    found.add((model._meta.label, field.name))
    return found


def _rows(queryset: Any) -> list[dict[str, Any]]:
    return sorted(queryset.values(), key=lambda row: row["id"])


def test_erasing_a_candidate_with_a_complete_history_leaves_no_trace(
    history, django_capture_on_commit_callbacks
) -> None:
    # given Erin's complete history, which the search finds where it is held
    erin = history.erin
    before_places = database_places_holding(ERIN_EMAIL, ERIN_NAME)
    assert {
        ("assessments.Candidate", "email"),
        ("assessments.Candidate", "name"),
        ("fitmodels.SessionReview", "note"),
        ("admin.LogEntry", "change_message"),
    } <= before_places
    # the append-only audit log never held them (the reviewer's note stays on the review)
    assert not {place for place in before_places if place[0] == "accounts.AuditLog"}
    others = [c.pk for c in history.others]
    other_traits = _rows(TraitScore.objects.filter(attempt__candidate_id__in=others))
    other_fits = _rows(FitScore.objects.filter(attempt__candidate_id__in=others))
    norm_tables = _rows(NormTable.objects.all())
    assert len(other_traits) == 3 * 9
    assert len(other_fits) == 3
    archive_file = history.archive.file_name
    assert storages["exports"].exists(archive_file)
    scopes = [
        candidate_scope(erin.pk),
        assessment_scope(history.assessment.pk),
        organization_scope(history.organization.pk),
    ]
    versions_before = versions(scopes)

    # when an admin erases her at her request
    with django_capture_on_commit_callbacks(execute=True):
        record = candidate_erase(
            actor=actor_of(history.admin), candidate=erin, reason="candidate_request"
        )

    # then her e-mail and name are nowhere in the database
    assert database_places_holding(ERIN_EMAIL, ERIN_NAME) == set()
    assert not Candidate.objects.filter(pk=erin.pk).exists()
    # exactly her rows went, counted per model
    assert record.rows_removed == {
        "admin.LogEntry": 1,
        "assessments.Attempt": 1,
        "assessments.Candidate": 1,
        "assessments.ConsentRecord": 2,
        "assessments.GameSession": 2,
        "events.Event": 11,
        "fitmodels.CandidateGroups": 1,
        "fitmodels.CandidateOutcome": 1,
        "fitmodels.FitScore": 1,
        "fitmodels.Incumbent": 1,
        "fitmodels.SessionReview": 1,
        "privacy.CandidateArchive": 1,
        "scoring.MetricSet": 2,
        "scoring.TraitScore": 9,
    }
    assert record.rows_redacted == {}
    assert record.files_removed == 1
    assert not storages["exports"].exists(archive_file)
    # nobody else's scores moved, and the norm tables are as they were
    assert _rows(TraitScore.objects.filter(attempt__candidate_id__in=others)) == other_traits
    assert _rows(FitScore.objects.filter(attempt__candidate_id__in=others)) == other_fits
    assert _rows(NormTable.objects.all()) == norm_tables
    # the proof keeps no personal data, and the audit log says who erased, by reference
    stored = ErasureRecord.objects.get(pk=record.pk)
    assert stored.organization_id == history.organization.pk
    assert stored.erased_by_id == history.admin.pk
    assert stored.reason == "candidate_request"
    assert stored.reference.startswith("ER-")
    assert len(stored.reference) == 14
    entry = AuditLog.objects.get(action="candidate.erase")
    assert (entry.object_type, entry.object_id, entry.actor_id) == (
        "candidate",
        str(erin.pk),
        history.admin.pk,
    )
    assert entry.details == {
        "reference": stored.reference,
        "reason": "candidate_request",
        "rows": 35,
    }
    # the review decision is still on record; the reviewer's note never was in it
    decision = AuditLog.objects.get(action="session_review.accept")
    assert decision.details == {"noted": True}
    assert REVIEW_NOTE not in json.dumps(list(AuditLog.objects.values_list("details", flat=True)))
    # every cached read of her, her assessment and her organisation is stale
    after = versions(scopes).split(".")
    assert all(int(a) > int(b) for a, b in zip(after, versions_before.split("."), strict=True))


def test_erasure_is_for_owners_and_admins_of_the_candidate_s_organisation(
    history, analyst, other_owner
) -> None:
    with pytest.raises(PermissionDenied):
        candidate_erase(actor=actor_of(analyst), candidate=history.erin, reason="organisation")
    with pytest.raises(NotFound):
        candidate_erase(actor=actor_of(other_owner), candidate=history.erin, reason="organisation")
    with pytest.raises(ValidationFailed) as invalid:
        candidate_erase(actor=actor_of(history.admin), candidate=history.erin, reason="bored")

    assert invalid.value.details == {
        "reason": ["must be one of candidate_request, consent_withdrawn, retention, organisation"]
    }
    assert Candidate.objects.filter(pk=history.erin.pk).exists()
    assert ErasureRecord.objects.count() == 0


def test_erasing_twice_finds_nothing_the_second_time(
    organization, make_invitation, owner, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="twice")
    actor = actor_of(owner)
    assert actor.role == Role.OWNER
    with django_capture_on_commit_callbacks(execute=True):
        first = candidate_erase(
            actor=actor, candidate=invitation.candidate, reason="consent_withdrawn"
        )

    with pytest.raises(NotFound):
        candidate_erase(actor=actor, candidate=invitation.candidate, reason="consent_withdrawn")

    # an invited candidate: the candidate and their attempt, nothing else
    assert first.rows_removed == {"assessments.Attempt": 1, "assessments.Candidate": 1}
    assert first.files_removed == 0
    assert ErasureRecord.objects.count() == 1
