"""The six roles of ARCHITECTURE.md, as Django groups with their permissions.

Permissions say what a role may do to a kind of object; the scope (which enterprises) comes from
the user's memberships, applied by the querysets' `visible_to(user)`.
"""

from dataclasses import dataclass

REGISTRY_MODELS = ("enterprise", "enterpriseyear", "ipasset", "qualification")


# 统计监测: the leadership reads what officers keep.
MONITORING_VIEW = (
    "indicators.view_indicator",
    "indicators.view_observation",
    "indicators.view_target",
    "indicators.view_plantask",
    "indicators.view_tasknote",
)


# 科技计划项目 calls (projects/calls.py, applications.py): officers keep programmes and calls and do 形式审查
# (the application workflow's return / pass_formal need projects.change_application); enterprises apply
# (submit needs projects.add_application) and do NOT get change_application, which would let them take
# formal review's transitions on their own applications.
PROJECT_CALLS_OFFICER = tuple(
    f"projects.{a}_{m}" for m in ("programme", "call") for a in ("view", "add", "change")
)
PROJECT_CALLS_OFFICER += ("projects.view_application", "projects.change_application")
PROJECT_CALLS_ENTERPRISE = ("projects.add_application", "projects.view_application", "projects.view_call")
# 立项 and the money loop (projects/money.py): officers approve (the application workflow's approve / reject need
# projects.add_award), move awards (change_award), accept milestones, disburse and evaluate.
PROJECT_MONEY_OFFICER = tuple(
    f"projects.{p}"
    for p in (
        "view_award",
        "add_award",
        "change_award",
        "change_milestone",
        "view_disbursement",
        "add_disbursement",
        "add_expenditure",
        "add_evaluation",
    )
)


@dataclass(frozen=True)
class Role:
    key: str
    name: str  # the group's name, as users see it
    permissions: tuple[str, ...]


def _perms(actions: tuple[str, ...], models: tuple[str, ...] = REGISTRY_MODELS) -> tuple[str, ...]:
    return tuple(f"enterprises.{action}_{model}" for model in models for action in actions)


OFFICER = Role(
    "officer",
    "科委业务人员",
    _perms(("view", "add", "change", "delete"))
    + _perms(("view", "add", "change"), ("park",))
    + (
        "enterprises.view_all_enterprises",
        "enterprises.import_registry",
        "enterprises.export_registry",
        "enterprises.view_history",
        "tiering.view_assessment",
        "tiering.add_assessmentrun",
        "tiering.view_parameterrevision",
        "tiering.add_parameterrevision",
        "tiering.change_parameterrevision",
        *MONITORING_VIEW,
        "indicators.add_observation",
        "indicators.change_observation",
        "indicators.add_target",
        "indicators.change_target",
        "indicators.add_tasknote",
        "indicators.change_plantask",
        *PROJECT_CALLS_OFFICER,
        "projects.view_expert",
        "projects.add_expert",
        "projects.change_expert",
        "projects.view_expertconflict",
        "projects.add_expertconflict",
        "projects.view_reviewassignment",
        "projects.add_reviewassignment",
        "projects.change_reviewassignment",
        "projects.view_score",
        *PROJECT_MONEY_OFFICER,
        "workflows.change_workflow",
    ),
)
PARK_OPERATOR = Role(
    "park_operator",
    "园区/载体运营方",
    _perms(("view", "change"), ("enterprise",))
    + _perms(("view", "add", "change"), ("enterpriseyear", "ipasset"))
    + _perms(("view",), ("qualification", "park"))
    + ("enterprises.export_registry", "enterprises.view_history", "tiering.view_assessment"),
)
ENTERPRISE = Role(
    "enterprise",
    "企业用户",
    _perms(("view", "change"), ("enterprise",))
    + _perms(("view", "add", "change"), ("enterpriseyear", "ipasset"))
    + _perms(("view",), ("qualification",))
    + ("enterprises.view_history",)
    + PROJECT_CALLS_ENTERPRISE,
)
UNIVERSITY = Role("university", "高校/院所", ())
EXPERT = Role(
    "expert",
    "专家",
    (
        "projects.view_reviewassignment",
        "projects.add_score",
    ),
)
LEADER = Role(
    "leader",
    "领导",
    _perms(("view",))
    + _perms(("view",), ("park",))
    + (
        "enterprises.view_all_enterprises",
        "enterprises.export_registry",
        "tiering.view_assessment",
        *MONITORING_VIEW,
        "projects.view_call",
        "projects.view_application",
        "projects.view_award",
    ),
)

ROLES = (OFFICER, PARK_OPERATOR, ENTERPRISE, UNIVERSITY, EXPERT, LEADER)
ROLES_BY_KEY = {role.key: role for role in ROLES}


def role_of(user) -> Role | None:
    """The user's role (the first of its groups that is a role); superusers count as officers."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return OFFICER
    names = {role.name: role for role in ROLES}
    for group_name in user.groups.values_list("name", flat=True):
        if group_name in names:
            return names[group_name]
    return None


def roles_sync() -> None:
    """Creates the role groups and sets exactly their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        wanted = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".")
            try:
                wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                raise RuntimeError(
                    f"角色“{role.name}”的权限 {dotted} 不存在：roles_sync 须在最后一个应用迁移之后运行"
                ) from None
        group.permissions.set(wanted)
