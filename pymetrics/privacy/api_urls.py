"""API routes of candidates' data rights, included in ``/api/v1/`` (namespace ``api``)."""

from django.urls import path

from pymetrics.privacy import api

urlpatterns = [
    path(
        "candidates/<int:candidate_id>/data-export/",
        api.CandidateDataExportApi.as_view(),
        name="candidate-data-export",
    ),
    path("data-exports/<int:archive_id>/", api.DataExportApi.as_view(), name="data-export-detail"),
    path(
        "candidates/<int:candidate_id>/erase/",
        api.CandidateEraseApi.as_view(),
        name="candidate-erase",
    ),
    path(
        "candidates/<int:candidate_id>/consents/",
        api.CandidateConsentsApi.as_view(),
        name="candidate-consents",
    ),
    path(
        "candidates/<int:candidate_id>/consents/withdraw/",
        api.CandidateConsentWithdrawApi.as_view(),
        name="candidate-consents-withdraw",
    ),
]
