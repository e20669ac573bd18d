from django.urls import include, path

from pymetrics.play import api as play_api
from pymetrics.staff import api as staff_api
from pymetrics.staff import api_candidates as candidates_api
from pymetrics.staff import api_fitmodels as fit_api

app_name = "api"

urlpatterns = [
    path("assessments/", staff_api.AssessmentListCreateApi.as_view(), name="assessments"),
    path(
        "assessments/<int:assessment_id>/",
        staff_api.AssessmentDetailApi.as_view(),
        name="assessment-detail",
    ),
    path(
        "assessments/<int:assessment_id>/dashboard/",
        staff_api.AssessmentDashboardApi.as_view(),
        name="assessment-dashboard",
    ),
    path(
        "assessments/<int:assessment_id>/candidates/",
        staff_api.CandidateCreateApi.as_view(),
        name="assessment-candidates",
    ),
    path("candidates/", candidates_api.CandidateSearchApi.as_view(), name="candidates"),
    path(
        "candidates/<int:candidate_id>/",
        staff_api.CandidateDetailApi.as_view(),
        name="candidate-detail",
    ),
    path(
        "candidates/<int:candidate_id>/groups/",
        fit_api.CandidateGroupsApi.as_view(),
        name="candidate-groups",
    ),
    path("job-profiles/", fit_api.JobProfileListCreateApi.as_view(), name="job-profiles"),
    path(
        "job-profiles/<int:job_profile_id>/",
        fit_api.JobProfileDetailApi.as_view(),
        name="job-profile-detail",
    ),
    path(
        "job-profiles/<int:job_profile_id>/incumbents/",
        fit_api.IncumbentsApi.as_view(),
        name="job-profile-incumbents",
    ),
    path(
        "job-profiles/<int:job_profile_id>/train/",
        fit_api.TrainApi.as_view(),
        name="job-profile-train",
    ),
    path(
        "training-jobs/<int:training_job_id>/",
        fit_api.TrainingJobApi.as_view(),
        name="training-job-detail",
    ),
    path(
        "fit-models/<int:model_version_id>/", fit_api.FitModelApi.as_view(), name="fit-model-detail"
    ),
    *[
        path(
            f"fit-models/<int:model_version_id>/{action}/",
            fit_api.FitModelActionApi.as_view(action_name=action),
            name=f"fit-model-{action}",
        )
        for action in ("audit", "activate", "retire")
    ],
    path(
        "candidates/<int:candidate_id>/outcome/",
        fit_api.CandidateOutcomeApi.as_view(),
        name="candidate-outcome",
    ),
    path(
        "job-profiles/<int:job_profile_id>/ab-tests/",
        fit_api.ABTestCreateApi.as_view(),
        name="job-profile-ab-tests",
    ),
    path("ab-tests/<int:ab_test_id>/", fit_api.ABTestApi.as_view(), name="ab-test-detail"),
    path("ab-tests/<int:ab_test_id>/stop/", fit_api.ABTestStopApi.as_view(), name="ab-test-stop"),
    path(
        "trait-map-proposals/",
        fit_api.TraitMapProposalCreateApi.as_view(),
        name="trait-map-proposals",
    ),
    path(
        "trait-map-proposals/<int:proposal_id>/",
        fit_api.TraitMapProposalApi.as_view(),
        name="trait-map-proposal-detail",
    ),
    path(
        "trait-map-proposals/<int:proposal_id>/activate/",
        fit_api.TraitMapProposalActivateApi.as_view(),
        name="trait-map-proposal-activate",
    ),
    path("drift-alerts/", staff_api.DriftAlertsApi.as_view(), name="drift-alerts"),
    path("session-reviews/", fit_api.SessionReviewListApi.as_view(), name="session-reviews"),
    path(
        "session-reviews/<int:review_id>/decide/",
        fit_api.SessionReviewDecideApi.as_view(),
        name="session-review-decide",
    ),
    path("anomaly-scans/", fit_api.AnomalyScanApi.as_view(), name="anomaly-scans"),
    path("play/<str:invite_token>/start/", play_api.PlayStartApi.as_view(), name="play-start"),
    path(
        "play/game-sessions/<int:game_session_id>/events/",
        play_api.GameSessionEventsApi.as_view(),
        name="play-events",
    ),
    path(
        "play/game-sessions/<int:game_session_id>/complete/",
        play_api.GameSessionCompleteApi.as_view(),
        name="play-complete",
    ),
    path(
        "play/game-sessions/<int:game_session_id>/restart/",
        play_api.GameSessionRestartApi.as_view(),
        name="play-restart",
    ),
    path("", include("pymetrics.reports.exports.api_urls")),
    path("", include("pymetrics.privacy.api_urls")),
]
