"""The 立项与经费 pages, included under the namespace "projects" by the projects' urls: no app_name here."""

from django.urls import path

from kechuang.projects import views_money

urlpatterns = [
    path("awards/", views_money.award_list, name="award-list"),
    path("awards/<int:pk>/", views_money.award_detail, name="award-detail"),
    path("awards/<int:pk>/expenditures/", views_money.expenditure_report, name="award-expenditure"),
    path("awards/<int:pk>/evaluations/", views_money.evaluation_add, name="award-evaluation"),
    path("awards/milestones/<int:pk>/report/", views_money.milestone_report, name="milestone-report"),
    path("awards/milestones/<int:pk>/accept/", views_money.milestone_accept, name="milestone-accept"),
    path("awards/milestones/<int:pk>/return/", views_money.milestone_return, name="milestone-return"),
    path("awards/milestones/<int:pk>/disburse/", views_money.milestone_disburse, name="milestone-disburse"),
    path("applications/<int:application_pk>/award/", views_money.award_create, name="award-create"),
]
