from kechuang.projects import urls_calls, urls_challenges, urls_money, urls_review

app_name = "projects"
urlpatterns = [
    *urls_calls.urlpatterns,
    *urls_review.urlpatterns,
    *urls_money.urlpatterns,
    *urls_challenges.urlpatterns,
]
