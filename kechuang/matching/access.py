"""Who is who in 双向发榜: the three kinds of posting, whose side a user is on, who sees what.

- An enterprise user (enterprises.Membership) is the side of its enterprises' demands; a university user
  (matching.Affiliation) the side of its organisation's achievements and talent profiles, as is the user who
  posted one (an officer importing for a university is its poster too).
- Officers (matching.view_<model>; leaders too, read-only) see every posting in every state; everyone else
  logged in sees the published and closed ones, and its own side's in every state.
- A docking has two sides: the demand's enterprise users, and the counterpart's poster and organisation
  users. They and officers (matching.view_docking) see it; they and officers holding matching.change_docking
  move it.
- Contact phones are shown in full to officers, to the posting's own side and to the other side of one of its
  dockings; masked (as the registry masks them) for everyone else.
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from kechuang.enterprises.models import Enterprise, Membership
from kechuang.matching.models import Achievement, Affiliation, Demand, Docking, TalentProfile
from kechuang.matching.workflows import PUBLIC_STATES

KINDS = ("demand", "achievement", "talent")
MODELS: dict[str, type[Model]] = {"demand": Demand, "achievement": Achievement, "talent": TalentProfile}
LABELS = {"demand": "技术需求", "achievement": "科技成果", "talent": "专家团队"}
SHORT = {"demand": "需求", "achievement": "成果", "talent": "专家团队"}
_MODEL_NAMES = {"demand": "demand", "achievement": "achievement", "talent": "talentprofile"}


def perm(kind: str, action: str) -> str:
    """ "matching.<action>_<model>" for a kind: perm("talent", "add") → matching.add_talentprofile."""
    return f"matching.{action}_{_MODEL_NAMES[kind]}"


def kind_of(obj) -> str:
    for kind, model in MODELS.items():
        if isinstance(obj, model):
            return kind
    raise TypeError(f"not a posting: {obj!r}")


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def enterprise_ids(user) -> set[int]:
    """The enterprises the user acts for (its enterprise memberships)."""
    if not _authenticated(user):
        return set()
    cached = getattr(user, "_matching_enterprises", None)
    if cached is None:
        cached = set(
            Membership.objects.filter(user=user, enterprise__isnull=False).values_list(
                "enterprise_id", flat=True
            )
        )
        user._matching_enterprises = cached
    return cached


def acting_enterprises(user) -> QuerySet[Enterprise]:
    return Enterprise.objects.filter(pk__in=enterprise_ids(user)).order_by("name")


def organisation_of(user) -> str:
    """The university or institute the user acts for ("" when none)."""
    if not _authenticated(user):
        return ""
    cached = getattr(user, "_matching_organisation", None)
    if cached is None:
        cached = Affiliation.objects.filter(user=user).values_list("organisation", flat=True).first() or ""
        user._matching_organisation = cached
    return cached


def sees_all(user, kind: str) -> bool:
    return _authenticated(user) and user.has_perm(perm(kind, "view"))


def is_moderator(user, kind: str) -> bool:
    return _authenticated(user) and user.has_perm(perm(kind, "change"))


def is_owner(user, posting) -> bool:
    """Whether the user is the posting's own side."""
    if not _authenticated(user):
        return False
    if isinstance(posting, Demand):
        return posting.enterprise_id in enterprise_ids(user)
    organisation = organisation_of(user)
    return posting.created_by_id == user.pk or bool(organisation and organisation == posting.organisation)


def _own(kind: str, user) -> Q:
    if kind == "demand":
        return Q(enterprise_id__in=enterprise_ids(user))
    condition = Q(created_by=user)
    organisation = organisation_of(user)
    if organisation:
        condition |= Q(organisation=organisation)
    return condition


def visible_postings(kind: str, user) -> QuerySet:
    model = MODELS[kind]
    if not _authenticated(user):
        return model.objects.none()
    if sees_all(user, kind):
        return model.objects.all()
    return model.objects.filter(Q(state__in=PUBLIC_STATES) | _own(kind, user))


def own_postings(kind: str, user) -> QuerySet:
    model = MODELS[kind]
    if not _authenticated(user):
        return model.objects.none()
    return model.objects.filter(_own(kind, user))


# —— dockings ——————————————————————————————————————————————————————————————————————————————————————————————


def _docking_sides_q(user) -> Q:
    condition = Q(demand__enterprise_id__in=enterprise_ids(user))
    condition |= Q(achievement__created_by=user) | Q(talent__created_by=user)
    organisation = organisation_of(user)
    if organisation:
        condition |= Q(achievement__organisation=organisation) | Q(talent__organisation=organisation)
    return condition


def visible_dockings(user) -> QuerySet[Docking]:
    if not _authenticated(user):
        return Docking.objects.none()
    if user.has_perm("matching.view_docking"):
        return Docking.objects.all()
    return Docking.objects.filter(_docking_sides_q(user))


def counterpart(docking: Docking):
    return docking.achievement if docking.achievement_id else docking.talent


def sides_of(user, docking: Docking) -> set[str]:
    """{"demand", "counterpart"}: which sides of the docking the user is on."""
    sides = set()
    if not _authenticated(user):
        return sides
    if docking.demand.enterprise_id in enterprise_ids(user):
        sides.add("demand")
    if is_owner(user, counterpart(docking)):
        sides.add("counterpart")
    return sides


def may_act_on_docking(user, docking: Docking) -> bool:
    if not _authenticated(user):
        return False
    if user.has_perm("matching.change_docking"):
        return True
    return user.has_perm("matching.add_docking") and bool(sides_of(user, docking))


def side_users(docking: Docking) -> dict[str, list]:
    """The users of each side, to notify: the demand's enterprise users; the counterpart's poster and the users
    of its organisation."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    other = counterpart(docking)
    demand_side = User.objects.filter(
        is_active=True, memberships__enterprise_id=docking.demand.enterprise_id
    ).distinct()
    condition = Q(affiliation__organisation=other.organisation)
    if other.created_by_id:
        condition |= Q(pk=other.created_by_id)
    counterpart_side = User.objects.filter(condition, is_active=True).distinct()
    return {"demand": list(demand_side.order_by("pk")), "counterpart": list(counterpart_side.order_by("pk"))}


def may_see_phone(user, posting) -> bool:
    """Officers, the posting's own side and the other side of one of its dockings see the phone in full."""
    kind = kind_of(posting)
    if sees_all(user, kind) or is_owner(user, posting):
        return True
    if not _authenticated(user):
        return False
    related = {
        "demand": Q(demand=posting),
        "achievement": Q(achievement=posting),
        "talent": Q(talent=posting),
    }
    return Docking.objects.filter(related[kind]).filter(_docking_sides_q(user)).exists()


def masked(phone: str) -> str:
    """The registry's mask (enterprises.Enterprise.masked_phone): 138****5678, or **** for a short number."""
    return Enterprise(contact_phone=phone or "").masked_phone
