from django.contrib.auth import views as auth_views
from django.urls import path

from pymetrics.staff import views
from pymetrics.staff.pages import (
    abtests,
    apikeys,
    audit,
    compare,
    dashboard,
    drift,
    fitmodels,
    home,
    insights,
    profile,
    reviews,
    search,
    security,
    system,
    team,
    traitmaps,
    trends,
)

app_name = "staff"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # two-factor authentication: the log-in's code step, set-up, the account's page
    path("login/verify/", security.verify, name="two-factor-verify"),
    path("account/security/", security.account_security, name="account-security"),
    path("account/security/enrol/", security.enrol, name="two-factor-enrol"),
    path("account/security/remove/", security.remove, name="two-factor-remove"),
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
    # finding candidates by e-mail (POST: the address stays out of URLs and logs)
    path("candidates/search/", search.page, name="candidate-search"),
    path("compare/", compare.page, name="compare"),
    path("audit/", audit.page, name="audit-log"),
    path("trends/", trends.page, name="trends"),
    path("insights/", insights.page, name="insights"),
    path("system/", system.page, name="system"),
    path("system.json", system.page, name="system-data"),
    # the job-fit layer: roles, their incumbents and training, model versions
    path("roles/", fitmodels.roles_page, name="fit-roles"),
    path("roles/<int:job_profile_id>/", fitmodels.role_page, name="fit-role"),
    path(
        "roles/<int:job_profile_id>/incumbents/",
        fitmodels.role_incumbents_add,
        name="fit-role-incumbents",
    ),
    path("roles/<int:job_profile_id>/train/", fitmodels.role_train, name="fit-role-train"),
    path(
        "training-jobs/<int:training_job_id>.json",
        fitmodels.training_job_data,
        name="fit-training-job-data",
    ),
    path("models/<int:model_version_id>/", fitmodels.model_page, name="fit-model"),
    path("models/<int:model_version_id>/audit/", fitmodels.model_audit, name="fit-model-audit"),
    path(
        "models/<int:model_version_id>/activate/",
        fitmodels.model_activate,
        name="fit-model-activate",
    ),
    path("models/<int:model_version_id>/retire/", fitmodels.model_retire, name="fit-model-retire"),
    # A/B tests of two active versions of a role
    path("ab-tests/", abtests.list_page, name="fit-ab-tests"),
    path("ab-tests/<int:ab_test_id>/", abtests.detail_page, name="fit-ab-test"),
    path("ab-tests/<int:ab_test_id>/stop/", abtests.stop, name="fit-ab-test-stop"),
    path(
        "candidates/<int:candidate_id>/outcome/", abtests.outcome_record, name="candidate-outcome"
    ),
    # the anomaly scan's review queue
    path("reviews/", reviews.queue_page, name="fit-reviews"),
    path("reviews/scan/", reviews.scan, name="fit-reviews-scan"),
    path("reviews/<int:review_id>/decide/", reviews.decide, name="fit-review-decide"),
    # trait maps proposed by factor analysis
    path("trait-maps/", traitmaps.list_page, name="fit-trait-maps"),
    path("trait-maps/<int:proposal_id>/", traitmaps.detail_page, name="fit-trait-map"),
    path(
        "trait-maps/<int:proposal_id>/activate/",
        traitmaps.activate,
        name="fit-trait-map-activate",
    ),
    # metrics drifting away from the norm table
    path("drift/", drift.page, name="fit-drift"),
    # the team: members, roles, and the welcome link where a new member sets a password
    path("team/", team.page, name="team"),
    path("team/add/", team.add, name="team-add"),
    path("team/<int:membership_id>/role/", team.role_change, name="team-role"),
    path("team/<int:membership_id>/remove/", team.remove, name="team-remove"),
    path(
        "team/<int:membership_id>/two-factor-reset/",
        team.two_factor_reset_view,
        name="team-two-factor-reset",
    ),
    path("welcome/<uidb64>/<token>/", team.WelcomeView.as_view(), name="welcome"),
    # API keys: listed, made (the new key shown once) and revoked
    path("api-keys/", apikeys.page, name="api-keys"),
    path("api-keys/created/", apikeys.created, name="api-key-created"),
    path("api-keys/<int:api_key_id>/revoke/", apikeys.revoke, name="api-key-revoke"),
]
