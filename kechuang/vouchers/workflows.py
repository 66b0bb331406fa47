"""The default workflows of voucher applications and redemptions, registered with the workflow engine at start-up
(VouchersConfig.ready imports this module), and their scopes for the task inbox.

Permissions: enterprises apply with vouchers.add_voucherapplication (and the `applicant` guard: only the applying
enterprise's own users); officers return and reject with vouchers.change_voucherapplication and approve with
vouchers.add_voucher (批准 issues the voucher: kechuang/vouchers/services.py, the `voucher_issued` guard refuses a
bare step). Redemptions are verified or refused with vouchers.change_redemption and settled with
vouchers.add_settlement (only through a settlement: the `settlement_recorded` guard). An open abuse flag blocks
approval and verification (the `*_flags_resolved` guards) until an officer resolves it.

The money of these steps is in the services: the inbox takes approve, return, reject (application) and verify,
refuse (redemption) through them, so that a refusal gives the voucher's balance back and a return has its reason.
"""

from kechuang.vouchers import guards
from kechuang.workflows import engine, selectors

APPLICATION = "vouchers.voucherapplication"
REDEMPTION = "vouchers.redemption"

APPLY = "vouchers.add_voucherapplication"
DECIDE = "vouchers.change_voucherapplication"
APPROVE = "vouchers.add_voucher"
VERIFY = "vouchers.change_redemption"
SETTLE = "vouchers.add_settlement"


def _t(name, label, sources, to, permission, *guard_names) -> dict:
    return {
        "name": name,
        "label": label,
        "from": list(sources),
        "to": to,
        "permission": permission,
        "guards": list(guard_names),
    }


APPLICATION_DEFAULT = {
    "initial": "draft",
    "states": {
        "draft": "草稿",
        "submitted": "已提交",
        "returned": "退回修改",
        "approved": "已批准",
        "rejected": "不予批准",
        "withdrawn": "已撤回",
    },
    "transitions": [
        _t(
            "submit",
            "提交申请",
            ["draft"],
            "submitted",
            APPLY,
            "applicant",
            "scheme_open",
            "within_cap",
            "purpose_given",
        ),
        _t(
            "resubmit",
            "修改后重新提交",
            ["returned"],
            "submitted",
            APPLY,
            "applicant",
            "scheme_open",
            "within_cap",
            "purpose_given",
        ),
        _t("return", "退回修改", ["submitted"], "returned", DECIDE),
        _t(
            "approve",
            "批准并发券",
            ["submitted"],
            "approved",
            APPROVE,
            "application_flags_resolved",
            "voucher_issued",
        ),
        _t("reject", "不予批准", ["submitted"], "rejected", DECIDE),
        _t("withdraw", "撤回申请", ["draft", "submitted", "returned"], "withdrawn", APPLY, "applicant"),
    ],
}

REDEMPTION_DEFAULT = {
    "initial": "submitted",
    "states": {
        "submitted": "待核验",
        "verified": "已核验",
        "settled": "已结算",
        "refused": "不予兑付",
    },
    "transitions": [
        _t("verify", "核验通过", ["submitted"], "verified", VERIFY, "redemption_flags_resolved"),
        _t("refuse", "不予兑付", ["submitted", "verified"], "refused", VERIFY),
        _t("settle", "结算", ["verified"], "settled", SETTLE, "settlement_recorded"),
    ],
}


def _named(*functions) -> dict:
    return {f.__name__: f for f in functions}


engine.register(
    APPLICATION,
    default=APPLICATION_DEFAULT,
    guards=_named(
        guards.applicant,
        guards.scheme_open,
        guards.within_cap,
        guards.purpose_given,
        guards.application_flags_resolved,
        guards.voucher_issued,
    ),
)
engine.register(
    REDEMPTION,
    default=REDEMPTION_DEFAULT,
    guards=_named(guards.redemption_flags_resolved, guards.settlement_recorded),
)


def visible_applications(user):
    from kechuang.vouchers import selectors as voucher_selectors

    return voucher_selectors.visible_applications(user)


def visible_redemptions(user):
    from kechuang.vouchers import selectors as voucher_selectors

    return voucher_selectors.visible_redemptions(user)


def take_application(application, name: str, user, reason: str = ""):
    """The inbox's steps through the services: 提交 stamps the time and checks the cap across the year,
    批准 grants the amount applied for and issues the voucher, 退回 and 不予批准 need their reason."""
    from kechuang.vouchers import services

    return services.application_take(application, name, user=user, reason=reason)


def take_redemption(redemption, name: str, user, reason: str = ""):
    """The inbox's steps through the services: 不予兑付 gives the balance back and needs its reason."""
    from kechuang.vouchers import redemptions

    return redemptions.redemption_take(redemption, name, user=user, reason=reason)


selectors.register_scope(APPLICATION, visible_applications, take=take_application)
selectors.register_scope(REDEMPTION, visible_redemptions, take=take_redemption)
