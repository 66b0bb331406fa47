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

# 揭榜挂帅 (projects/challenges.py): enterprises post challenges, answer others' and score the answers to their
# own; universities answer; officers moderate, invite experts, choose the winner and make it a project; invited
# experts score.
PROJECT_CHALLENGES_OFFICER = tuple(
    f"projects.{a}_{m}"
    for m in ("challenge", "challengeanswer", "challengereview")
    for a in ("view", "change")
)
PROJECT_CHALLENGES_ENTERPRISE = (
    "projects.add_challenge",
    "projects.view_challenge",
    "projects.add_challengeanswer",
    "projects.add_challengereview",
)
PROJECT_CHALLENGES_UNIVERSITY = ("projects.view_challenge", "projects.add_challengeanswer")
PROJECT_CHALLENGES_EXPERT = ("projects.view_challenge", "projects.add_challengereview")


# 认定登记 (recognitions/): officers run 高转项目 recommendation, expert review and results, and the 技术合同 registry
# with its 履约跟踪; enterprises apply for their own projects and contracts (as seller) and see them; experts
# review the projects assigned to them; leaders read.
RECOGNITIONS_OFFICER = (
    "recognitions.view_transformationproject",
    "recognitions.change_transformationproject",
    "recognitions.decide_transformationproject",
    "recognitions.view_transformationreview",
    "recognitions.add_transformationreview",
    "recognitions.change_transformationreview",
    "recognitions.view_techcontract",
    "recognitions.add_techcontract",
    "recognitions.change_techcontract",
    "recognitions.register_techcontract",
    "recognitions.view_paymentmilestone",
    "recognitions.add_paymentmilestone",
    "recognitions.change_paymentmilestone",
)
RECOGNITIONS_ENTERPRISE = (
    "recognitions.add_transformationproject",
    "recognitions.view_transformationproject",
    "recognitions.add_techcontract",
    "recognitions.view_techcontract",
    "recognitions.view_paymentmilestone",
)
RECOGNITIONS_EXPERT = ("recognitions.view_transformationreview", "recognitions.submit_transformationreview")
RECOGNITIONS_LEADER = (
    "recognitions.view_transformationproject",
    "recognitions.view_transformationreview",
    "recognitions.view_techcontract",
    "recognitions.view_paymentmilestone",
)

# 双向发榜 (matching/): enterprises post demands for their own enterprise, universities achievements and talent
# profiles for their organisation (matching.Affiliation); officers moderate (change_*) and follow every docking;
# either side of a docking moves it (add_docking, and being a side); leaders read.
MATCHING_OFFICER = tuple(
    f"matching.{a}_{m}" for m in ("demand", "achievement", "talentprofile", "docking") for a in ("view", "change")
) + ("matching.add_achievement", "matching.add_docking")
MATCHING_ENTERPRISE = ("matching.add_demand", "matching.add_docking")
MATCHING_UNIVERSITY = ("matching.add_achievement", "matching.add_talentprofile", "matching.add_docking")
MATCHING_LEADER = tuple(f"matching.view_{m}" for m in ("demand", "achievement", "talentprofile", "docking"))
# 科技创新券 (vouchers/): officers keep the schemes and the provider catalogue, approve applications (add_voucher
# issues the voucher), verify or refuse redemptions, resolve abuse flags and settle; enterprises apply; the
# 服务机构 role enters redemptions for its own provider (vouchers.ProviderMember) and reads its settlements.
VOUCHERS_OFFICER = tuple(
    f"vouchers.{a}_{m}" for m in ("voucherscheme", "provider", "providerservice") for a in ("view", "add", "change")
) + tuple(
    f"vouchers.{p}"
    for p in (
        "view_providermember",
        "add_providermember",
        "delete_providermember",
        "view_voucherapplication",
        "change_voucherapplication",
        "view_voucher",
        "add_voucher",
        "view_redemption",
        "add_redemption",
        "change_redemption",
        "view_abuseflag",
        "change_abuseflag",
        "view_settlement",
        "add_settlement",
    )
)
VOUCHERS_ENTERPRISE = tuple(
    f"vouchers.{p}"
    for p in (
        "view_voucherscheme",
        "view_provider",
        "view_providerservice",
        "add_voucherapplication",
        "view_voucherapplication",
        "view_voucher",
    )
)
VOUCHERS_PROVIDER = tuple(
    f"vouchers.{p}"
    for p in (
        "view_voucherscheme",
        "view_provider",
        "view_providerservice",
        "add_redemption",
        "view_redemption",
        "view_settlement",
    )
)
VOUCHERS_LEADER = tuple(
    f"vouchers.view_{m}"
    for m in (
        "voucherscheme",
        "provider",
        "providerservice",
        "voucherapplication",
        "voucher",
        "redemption",
        "abuseflag",
        "settlement",
    )
)

# 政策库 and 免申即享 (policies/): everyone signed in reads the library and the published items; officers keep
# documents, items and period figures, run 免申即享, review, export the payment list and pay; enterprises see and
# accept their own benefits; park operators and leaders read the benefits in their scope.
POLICIES_READ = ("policies.view_policydocument", "policies.view_article", "policies.view_policyitem")
POLICIES_OFFICER = (
    POLICIES_READ
    + tuple(
        f"policies.{a}_{m}"
        for m in ("policydocument", "article", "policyitem", "policyfigure")
        for a in ("add", "change")
    )
    + (
        "policies.view_policyfigure",
        "policies.view_benefitrun",
        "policies.add_benefitrun",
        "policies.change_benefitrun",
        "policies.view_benefit",
        "policies.change_benefit",
        "policies.export_benefit",
    )
)
POLICIES_ENTERPRISE = POLICIES_READ + ("policies.view_benefit", "policies.accept_benefit")
POLICIES_SCOPED = POLICIES_READ + ("policies.view_benefitrun", "policies.view_benefit")


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
        *PROJECT_CHALLENGES_OFFICER,
        *RECOGNITIONS_OFFICER,
        *MATCHING_OFFICER,
        *VOUCHERS_OFFICER,
        *POLICIES_OFFICER,
        "workflows.change_workflow",
    ),
)
PARK_OPERATOR = Role(
    "park_operator",
    "园区/载体运营方",
    _perms(("view", "change"), ("enterprise",))
    + _perms(("view", "add", "change"), ("enterpriseyear", "ipasset"))
    + _perms(("view",), ("qualification", "park"))
    + ("enterprises.export_registry", "enterprises.view_history", "tiering.view_assessment")
    + POLICIES_SCOPED,
)
ENTERPRISE = Role(
    "enterprise",
    "企业用户",
    _perms(("view", "change"), ("enterprise",))
    + _perms(("view", "add", "change"), ("enterpriseyear", "ipasset"))
    + _perms(("view",), ("qualification",))
    + ("enterprises.view_history",)
    + PROJECT_CALLS_ENTERPRISE
    + PROJECT_CHALLENGES_ENTERPRISE
    + RECOGNITIONS_ENTERPRISE
    + MATCHING_ENTERPRISE
    + VOUCHERS_ENTERPRISE
    + POLICIES_ENTERPRISE,
)
UNIVERSITY = Role(
    "university", "高校/院所", PROJECT_CHALLENGES_UNIVERSITY + MATCHING_UNIVERSITY + POLICIES_READ
)
EXPERT = Role(
    "expert",
    "专家",
    (
        "projects.view_reviewassignment",
        "projects.add_score",
        *PROJECT_CHALLENGES_EXPERT,
        *RECOGNITIONS_EXPERT,
        *POLICIES_READ,
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
        *RECOGNITIONS_LEADER,
        *MATCHING_LEADER,
        *VOUCHERS_LEADER,
        *POLICIES_SCOPED,
    ),
)
# 服务机构 (vouchers/): a provider of the 创新券 catalogue; sees no enterprise, only its own redemptions.
PROVIDER = Role("provider", "服务机构", VOUCHERS_PROVIDER)

ROLES = (OFFICER, PARK_OPERATOR, ENTERPRISE, UNIVERSITY, EXPERT, LEADER, PROVIDER)
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
                    f"角色“{role.name}”的权限 {dotted} 不存在：roles_sync 须在最后一个应用迁移之后运行（kechuang/core/apps.py）"
                ) from None
        group.permissions.set(wanted)
