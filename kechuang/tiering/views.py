"""梯度评估 pages: access-checked get through the registry's one getter, a selector, render."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kechuang.enterprises.access import enterprise_for_user
from kechuang.tiering import selectors


@login_required
@require_GET
def enterprise_assessment(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    on = timezone.localdate()
    context = {
        "enterprise": enterprise,
        "on": on,
        "areas": selectors.enterprise_assessment(enterprise=enterprise, on=on),
    }
    return render(request, "tiering/enterprise_assessment.html", context)
