"""Where each role starts after logging in: the `home` page sends the user there.

core is the bottom layer and imports no app, so the start pages are named by URL name, and the few facts they need
(the user's enterprise, whether the user is in the expert pool) are read through the reverse relations the apps put
on the user (`memberships` from enterprises.Membership, `expert` from projects.Expert).
"""

from dataclasses import dataclass

from django.urls import reverse

from kechuang.core import roles

ASK_THE_COMMISSION = "请联系区科委的平台管理员（科委业务人员），由其在管理后台为您的账号分配角色或完成关联，处理后重新登录即可。"


@dataclass(frozen=True)
class NoStartPage:
    """Why a signed-in user has no page to start on, in words the user can act on."""

    title: str
    reason: str


NO_ROLE = NoStartPage("您的账号尚未分配角色", "账号还没有分配角色（科委业务人员、企业用户、专家等），因此暂无可用的功能。")
NO_ENTERPRISE = NoStartPage("您的账号尚未关联企业", "企业用户的账号须关联到本企业后才能查看和填报企业信息。")
NOT_IN_EXPERT_POOL = NoStartPage("您的账号尚未登记为评审专家", "专家账号须在专家库中登记后才能收到评审任务。")


def _enterprise_page(user) -> str | NoStartPage:
    enterprise_id = (
        user.memberships.filter(enterprise__isnull=False).order_by("pk").values_list("enterprise_id", flat=True).first()
    )
    if enterprise_id is None:
        return NO_ENTERPRISE
    return reverse("enterprises:detail", kwargs={"pk": enterprise_id})


def _expert_page(user) -> str | NoStartPage:
    if not hasattr(user, "expert"):  # no projects.Expert for this account
        return NOT_IN_EXPERT_POOL
    return reverse("projects:review-inbox")


START_PAGES = {
    # The registry is the officer's desk (there is no separate 工作台); a park operator sees its own parks' part.
    roles.OFFICER.key: lambda user: reverse("enterprises:list"),
    roles.PARK_OPERATOR.key: lambda user: reverse("enterprises:list"),
    roles.LEADER.key: lambda user: reverse("indicators:dashboard"),
    roles.ENTERPRISE.key: _enterprise_page,
    roles.EXPERT.key: _expert_page,
    # 双向发榜: universities post achievements and answer enterprises' demands.
    roles.UNIVERSITY.key: lambda user: reverse("matching:achievement-list"),
    # 服务机构: enters redemptions of 创新券 and follows them to settlement.
    roles.PROVIDER.key: lambda user: reverse("vouchers:redemptions"),
}


def start_page(user) -> str | NoStartPage:
    """The address a signed-in user starts on, or why there is none."""
    role = roles.role_of(user)
    if role is None:
        return NO_ROLE
    return START_PAGES[role.key](user)
