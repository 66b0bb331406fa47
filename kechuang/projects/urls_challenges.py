"""揭榜挂帅 pages (views_challenges.py). No app_name: included under the namespace "projects" by the projects' urls."""

from django.urls import path

from kechuang.projects import views_challenges as views

urlpatterns = [
    path("challenges/", views.challenge_hall, name="challenge-hall"),
    path("challenges/mine/", views.challenge_mine, name="challenge-mine"),
    path("challenges/moderation/", views.challenge_queue, name="challenge-queue"),
    path("challenges/new/", views.challenge_create, name="challenge-create"),
    path("challenges/<int:pk>/", views.challenge_detail, name="challenge-detail"),
    path("challenges/<int:pk>/edit/", views.challenge_edit, name="challenge-edit"),
    path(
        "challenges/<int:pk>/transition/<slug:name>/", views.challenge_transition, name="challenge-transition"
    ),
    path("challenges/<int:pk>/answer/", views.challenge_answer, name="challenge-answer"),
    path("challenges/<int:pk>/experts/", views.challenge_experts, name="challenge-experts"),
    path("challenges/<int:pk>/ranking/", views.challenge_ranking, name="challenge-ranking"),
    path("challenges/<int:pk>/winner/", views.challenge_winner, name="challenge-winner"),
    path("challenges/<int:pk>/project/", views.challenge_project, name="challenge-project"),
    path("challenges/answers/<int:pk>/withdraw/", views.answer_withdraw, name="challenge-answer-withdraw"),
    path("challenges/answers/<int:pk>/review/", views.answer_review, name="challenge-review"),
]
