"""Drift alerts: a metric whose recent candidates moved away from the norm is named."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.utils import timezone

from pymetrics.analytics.selectors.drift_alerts import drift_alerts
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.psychometrics.norms import metric_distribution
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable
from pymetrics.scoring.services import trait_map_version_get_or_create


def test_a_shifted_metric_is_an_alert_and_a_steady_one_is_not(organization):
    rng = np.random.default_rng(5)
    norm = {}
    for key in ("arrows.rt_mean_ms", "arrows.accuracy"):
        distribution = metric_distribution(rng.normal(500.0, 50.0, size=2000))
        assert distribution is not None
        norm[key] = distribution.to_dict()
    NormTable.objects.create(
        organization=organization,
        name="Norms",
        version=1,
        population=NormPopulation.ORGANISATION,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=2000,
        data={"metrics": norm, "traits": {}},
    )
    assessment = Assessment.objects.create(organization=organization, name="A", games=["arrows"])
    now = timezone.now()
    for index in range(80):
        candidate = Candidate.objects.create(organization=organization, external_id=f"c{index}")
        attempt = Attempt.objects.create(
            candidate=candidate,
            assessment=assessment,
            state=AttemptState.COMPLETED,
            invite_expires_at=now + timedelta(days=1),
            completed_at=now - timedelta(days=1),
        )
        session = GameSession.objects.create(
            attempt=attempt, game="arrows", position=1, seed=index, state=GameSessionState.SCORED
        )
        MetricSet.objects.create(
            game_session=session,
            game="arrows",
            extractor_version=1,
            # reaction times a whole SD slower than the norm; "accuracy" as the norm
            values={
                "rt_mean_ms": float(rng.normal(550.0, 50.0)),
                "accuracy": float(rng.normal(500.0, 50.0)),
            },
        )

    found = drift_alerts(organization=organization)

    assert (found["checked"], found["alert_psi"], found["window_days"]) == (2, 0.2, 28)
    assert found["recent"] == {"completed": 80, "simulated": 0}
    assert [alert["metric"] for alert in found["alerts"]] == ["arrows.rt_mean_ms"]
    alert = found["alerts"][0]
    assert alert["n"] == 80
    # a one-SD shift: far above the 0.2 alert line and above what 80 people give by chance
    assert round(alert["psi"], 3) == 0.951
    assert round(alert["noise_level"], 3) == 0.245
    assert alert["game_title"] == "Arrows"
