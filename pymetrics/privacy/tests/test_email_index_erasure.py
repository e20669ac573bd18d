"""Erasure takes the candidate's e-mail index with their row."""

from __future__ import annotations

from pymetrics.assessments.models import Candidate
from pymetrics.assessments.selectors import candidate_find_by_email
from pymetrics.assessments.services import candidate_invite
from pymetrics.privacy.services import candidate_erase


def test_erasure_leaves_no_row_with_the_candidate_s_email_index(assessment):
    invitation = candidate_invite(assessment=assessment, email="erin@example.org")
    index = invitation.candidate.email_index

    candidate_erase(actor=None, candidate=invitation.candidate, reason="candidate_request")

    assert index != ""
    assert not Candidate.objects.filter(email_index=index).exists()
    assert (
        candidate_find_by_email(organization=assessment.organization, email="erin@example.org")
        == []
    )
