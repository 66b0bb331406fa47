"""The default workflows of 高转项目认定 and 技术合同认定登记, registered with the workflow engine at start-up
(RecognitionsConfig.ready imports this module). Version 1 of each is made from these on first use; an officer
adjusts them by publishing a new version at /workflows/. The guards' code is in guards.py.

Who takes each step: the applying enterprise's users submit (recognitions.add_transformationproject and the
`applicant` guard); the district (区科委) returns and recommends (recognitions.change_transformationproject); the
recognition result (认定 / 不予认定) is recorded with recognitions.decide_transformationproject. A contract is
registered, 未予登记 or cancelled by the registry (recognitions.register_techcontract); its seller may withdraw
an application still waiting (recognitions.add_techcontract and the `seller` guard).
"""

from kechuang.enterprises.models import Enterprise
from kechuang.recognitions import guards
from kechuang.recognitions.models import TransformationProject
from kechuang.workflows import engine, selectors

PROJECT = "recognitions.transformationproject"
CONTRACT = "recognitions.techcontract"

APPLY = "recognitions.add_transformationproject"
DISTRICT = "recognitions.change_transformationproject"
DECIDE = "recognitions.decide_transformationproject"
REGISTRY = "recognitions.register_techcontract"
SUBMIT_CONTRACT = "recognitions.add_techcontract"

# Transition names the services take.
SUBMIT, RESUBMIT, RETURN, RECOMMEND, RECOGNISE, REJECT = (
    "submit",
    "resubmit",
    "return",
    "recommend",
    "recognise",
    "reject",
)
REGISTER, REFUSE, WITHDRAW, CANCEL = "register", "refuse", "withdraw", "cancel"


def _t(name, label, sources, to, permission, *guard_names) -> dict:
    return {
        "name": name,
        "label": label,
        "from": list(sources),
        "to": to,
        "permission": permission,
        "guards": list(guard_names),
    }


PROJECT_DEFAULT = {
    "initial": "draft",
    "states": {
        "draft": "草稿",
        "submitted": "已提交",
        "returned": "退回修改",
        "district_recommended": "区科委已推荐",
        "recognised": "已认定",
        "rejected": "不予认定",
    },
    "transitions": [
        _t(SUBMIT, "提交认定申请", ["draft"], "submitted", APPLY, "applicant", "eligible"),
        _t(RESUBMIT, "修改后重新提交", ["returned"], "submitted", APPLY, "applicant", "eligible"),
        _t(RETURN, "退回修改", ["submitted", "district_recommended"], "returned", DISTRICT),
        _t(RECOMMEND, "区科委推荐", ["submitted"], "district_recommended", DISTRICT, "eligible"),
        _t(
            RECOGNISE,
            "认定",
            ["district_recommended"],
            "recognised",
            DECIDE,
            "eligible",
            "exclusion_judged",
            "reviews_complete",
            "certificate_recorded",
        ),
        _t(REJECT, "不予认定", ["submitted", "district_recommended"], "rejected", DECIDE),
    ],
}

CONTRACT_DEFAULT = {
    "initial": "submitted",
    "states": {
        "submitted": "待登记",
        "registered": "已登记",
        "not_registered": "未予登记",
        "cancelled": "已撤回或注销",
    },
    "transitions": [
        _t(REGISTER, "认定登记", ["submitted"], "registered", REGISTRY, "registration_recorded"),
        _t(REFUSE, "未予登记", ["submitted"], "not_registered", REGISTRY),
        _t(WITHDRAW, "撤回登记申请", ["submitted"], "cancelled", SUBMIT_CONTRACT, "seller"),
        _t(CANCEL, "注销登记", ["registered"], "cancelled", REGISTRY),
    ],
}


def _named(*functions) -> dict:
    return {f.__name__: f for f in functions}


engine.register(
    PROJECT,
    default=PROJECT_DEFAULT,
    guards=_named(
        guards.applicant,
        guards.eligible,
        guards.exclusion_judged,
        guards.reviews_complete,
        guards.certificate_recorded,
    ),
)
engine.register(
    CONTRACT,
    default=CONTRACT_DEFAULT,
    guards=_named(guards.seller, guards.registration_recorded),
)


# —— Who sees what in the task inbox, and how it takes a step ——


def visible_projects(user):
    if not getattr(user, "is_authenticated", False) or not user.has_perm(
        "recognitions.view_transformationproject"
    ):
        return TransformationProject.objects.none()
    return TransformationProject.objects.filter(
        enterprise__in=Enterprise.objects.visible_to(user).values("pk")
    )


def visible_contracts(user):
    from kechuang.recognitions.selectors import visible_contracts as visible

    return visible(user)


def take_project(project, name: str, user, reason: str = ""):
    """The inbox's steps through the services where they do more than the engine (a submission's date, the
    reasons a return or a rejection needs)."""
    from kechuang.recognitions import transformation

    return transformation.project_take(project, name, user=user, reason=reason)


def take_contract(contract, name: str, user, reason: str = ""):
    from kechuang.recognitions import contracts

    return contracts.contract_take(contract, name, user=user, reason=reason)


selectors.register_scope(PROJECT, visible_projects, take=take_project)
selectors.register_scope(CONTRACT, visible_contracts, take=take_contract)
