from django.contrib.auth import views as auth_views
from django.urls import path

from pymetrics.staff import views
from pymetrics.staff.pages import compare, dashboard, home, insights, profile, system, trends

app_name = "staff"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # the organisation's home: its assessments with counts and activity
    path("", home.page, name="assessment-list"),
    path("assessments/new/", views.assessment_create_view, name="assessment-create"),
    path(
        "assessments/<int:assessment_id>/", views.assessment_detail_view, name="assessment-detail"
    ),
    path(
        "assessments/<int:assessment_id>/dashboard/",
        dashboard.page,
        name="assessment-dashboard",
    ),
    path(
        "assessments/<int:assessment_id>/dashboard.json",
        dashboard.page,
        name="assessment-dashboard-data",
    ),
    path("candidates/<int:candidate_id>/", profile.page, name="candidate-profile"),
    path("candidates/<int:candidate_id>/profile.json", profile.page, name="candidate-profile-data"),
    path("compare/", compare.page, name="compare"),
    path("trends/", trends.page, name="trends"),
    path("insights/", insights.page, name="insights"),
    path("system/", system.page, name="system"),
    path("system.json", system.page, name="system-data"),
]
