from django.urls import path

from pymetrics.play import api as play_api
from pymetrics.staff import api as staff_api

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
    path(
        "candidates/<int:candidate_id>/",
        staff_api.CandidateDetailApi.as_view(),
        name="candidate-detail",
    ),
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
]
