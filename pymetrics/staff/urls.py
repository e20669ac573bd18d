from django.contrib.auth import views as auth_views
from django.urls import path

from pymetrics.staff import views

app_name = "staff"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.assessment_list_view, name="assessment-list"),
    path("assessments/new/", views.assessment_create_view, name="assessment-create"),
    path(
        "assessments/<int:assessment_id>/", views.assessment_detail_view, name="assessment-detail"
    ),
]
