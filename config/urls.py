"""URL configuration: staff pages, candidate pages, the API, health and admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from pymetrics.common.views import GameCatalog, favicon
from pymetrics.ops import health
from pymetrics.staff import views as staff_views

urlpatterns = [
    path("", staff_views.home, name="home"),
    path("staff/", include("pymetrics.staff.urls")),
    path("staff/reports/", include("pymetrics.reports.documents.staff_urls")),
    path("staff/exports/", include("pymetrics.reports.exports.urls")),
    path("staff/privacy/", include("pymetrics.privacy.urls")),
    # a candidate's own feedback report, from their invite link
    path("play/<str:invite_token>/report/", include("pymetrics.reports.documents.candidate_urls")),
    path("play/", include("pymetrics.play.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # the split view serves Swagger UI's start-up script as a file (?script): no inline
    # script, so the page runs under the Content-Security-Policy (common/security.py)
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="common/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    # the game pages' translations (gettext/interpolate for PymetricsKit.t); cached, as
    # the catalogue only changes with a deployment
    path("jsi18n/", cache_page(3600)(GameCatalog.as_view()), name="javascript-catalog"),
    path("i18n/", include("django.conf.urls.i18n")),
]

handler400 = "pymetrics.common.views.bad_request"
handler403 = "pymetrics.common.views.permission_denied"
handler404 = "pymetrics.common.views.page_not_found"
handler500 = "pymetrics.common.views.server_error"
