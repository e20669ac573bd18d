from django.urls import path

from pymetrics.play import views

app_name = "play"

urlpatterns = [
    path("<str:invite_token>/", views.invite, name="invite"),
    path("<str:invite_token>/consent/", views.consent, name="consent"),
    path("<str:invite_token>/lobby/", views.lobby, name="lobby"),
    path("<str:invite_token>/games/<int:game_session_id>/", views.game, name="game"),
    path("<str:invite_token>/thanks/", views.thanks, name="thanks"),
]
