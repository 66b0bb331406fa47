"""The one way to fetch registry objects for a user: scope first, then the permission to act.

An object outside the user's scope is reported as not found (404), so its existence does not leak;
an object in scope without the needed permission is forbidden (403).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from kechuang.enterprises.models import Enterprise

ACTION_NAMES = {"view": "查看", "change": "修改", "delete": "删除", "add": "新增"}


class NotVisible(Http404):
    pass


def enterprise_for_user(user, pk, *, action: str = "view") -> Enterprise:
    """The enterprise `pk` if `user` may `action` ("view" or "change") it."""
    try:
        enterprise = Enterprise.objects.visible_to(user).select_related("park").get(pk=pk)
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise NotVisible("企业不存在或无权查看") from None
    if not user.has_perm(f"enterprises.{action}_enterprise"):
        raise PermissionDenied(f"无权{ACTION_NAMES.get(action, action)}该企业")
    return enterprise


def child_for_user(user, model, pk, *, action: str = "view"):
    """A year, IP asset or qualification `pk`, through its enterprise's scope."""
    visible = Enterprise.objects.visible_to(user).values("pk")
    try:
        obj = model.objects.select_related("enterprise").get(pk=pk, enterprise__in=visible)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotVisible(f"{model._meta.verbose_name}不存在或无权查看") from None
    if not user.has_perm(f"enterprises.{action}_{model._meta.model_name}"):
        raise PermissionDenied(f"无权{ACTION_NAMES.get(action, action)}该{model._meta.verbose_name}")
    return obj
