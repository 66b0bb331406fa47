"""评审 pages (views_review.py). No app_name: the lead includes `urlpatterns` under the namespace "projects"."""

from django.urls import path

from kechuang.projects import views_review

urlpatterns = [
    path("review/experts/", views_review.expert_list, name="review-experts"),
    path("review/calls/<int:pk>/assign/", views_review.call_assign, name="review-call"),
    path("review/calls/<int:pk>/ranking/", views_review.ranking, name="review-ranking"),
    path("review/applications/<int:pk>/", views_review.application_reviews, name="review-application"),
    path("review/assignments/<int:pk>/replace/", views_review.assignment_replace, name="review-replace"),
    path("review/inbox/", views_review.inbox, name="review-inbox"),
    path("review/inbox/<int:pk>/", views_review.assignment_detail, name="review-assignment"),
    path("review/inbox/<int:pk>/accept/", views_review.assignment_accept, name="review-accept"),
    path("review/inbox/<int:pk>/withdraw/", views_review.assignment_withdraw, name="review-withdraw"),
]
