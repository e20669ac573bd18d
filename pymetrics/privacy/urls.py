"""Staff pages of candidates' data rights, under ``/staff/privacy/`` (namespace ``privacy``)."""

from django.urls import path

from pymetrics.privacy import views

app_name = "privacy"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path(
        "candidates/<int:candidate_id>/data-export/",
        views.archive_request,
        name="archive-request",
    ),
    path(
        "candidates/<int:candidate_id>/consent/withdraw/",
        views.consent_withdraw,
        name="consent-withdraw",
    ),
    path("candidates/<int:candidate_id>/erase/", views.erase_page, name="erase"),
    path("data-exports/<int:archive_id>.json", views.archive_data, name="archive-data"),
    path("data-exports/download/<str:token>/", views.archive_download, name="archive-download"),
]
