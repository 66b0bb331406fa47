"""The checks the recognitions workflows name in their transitions (guards of kechuang/workflows/engine.py):
`guard(obj, user) -> None | str`, None when the step may be taken, otherwise the Chinese reason it may not."""

from __future__ import annotations

from kechuang.enterprises.models import Membership
from kechuang.projects import guards as project_guards
from kechuang.recognitions import config
from kechuang.recognitions.choices import Exclusion, ReviewState

# —— 高转项目 ——

# Only the applying enterprise's own users submit for it (the same rule as a 科技计划 application).
applicant = project_guards.applicant


def eligible(project, user=None) -> str | None:
    """No condition of 沪科规〔2020〕8号 is "not met" (unknown ones are for the district to verify)."""
    from kechuang.recognitions.eligibility import check

    refusal = check(project).refusal()
    return f"不符合认定条件：{refusal}" if refusal else None


def exclusion_judged(project, user=None) -> str | None:
    if project.exclusion == Exclusion.NOT_JUDGED:
        return "尚未判断是否属于不予认定情形（一般性工艺改进、成熟产品、日常消费品等），请先作出判断"
    return None


def reviews_complete(project, user=None) -> str | None:
    """At least RECOGNITIONS_REVIEWS_REQUIRED experts have reviewed, and none assigned is still to review."""
    needed = config.reviews_required()
    states = list(project.reviews.values_list("state", flat=True))
    waiting = states.count(ReviewState.ASSIGNED)
    done = states.count(ReviewState.SUBMITTED)
    if waiting:
        return f"尚有 {waiting} 位专家未提交评审意见"
    if done < needed:
        return f"已评审专家 {done} 位，须至少 {needed} 位（回避退出的不计）"
    return None


def certificate_recorded(project, user=None) -> str | None:
    if not project.certificate_no or not project.recognised_on or not project.valid_until:
        return "须先在项目页面“登记认定结果”中填写证书编号和认定日期"
    return None


# —— 技术合同 ——


def seller(contract, user) -> str | None:
    """Only the seller enterprise's own users act for it (withdraw its application)."""
    if (
        contract.enterprise_id is None
        or not getattr(user, "is_authenticated", False)
        or not Membership.objects.filter(user=user, enterprise_id=contract.enterprise_id).exists()
    ):
        return f"仅卖方“{contract.seller_name}”的用户可以办理"
    return None


def registration_recorded(contract, user=None) -> str | None:
    if not contract.registration_no or not contract.registered_on:
        return "须先给出合同登记编号和登记日期（在合同页面办理登记）"
    return None
