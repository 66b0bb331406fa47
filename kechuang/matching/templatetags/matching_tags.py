"""What the 双向发榜 pages show: a posting's link and kind, fields in words, money in 万元, phones masked for
those who may not see them."""

from django import template
from django.urls import reverse

from kechuang.core.money import format_wan
from kechuang.matching import access
from kechuang.matching.models import CooperationMode
from kechuang.matching.services import FIELD_LABELS

register = template.Library()
MODES = dict(CooperationMode.choices)


@register.filter
def posting_url(obj) -> str:
    return reverse(f"matching:{access.kind_of(obj)}-detail", args=[obj.pk])


@register.filter
def kind_label(kind: str) -> str:
    return access.LABELS.get(kind, kind)


@register.filter
def field_label(code: str) -> str:
    return FIELD_LABELS.get(code or "", "未填")


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元, "—" when there is none."""
    return "—" if value is None else f"{format_wan(value)} 万元"


@register.filter
def modes(codes) -> str:
    return "、".join(MODES.get(c, c) for c in codes or []) or "—"


@register.filter
def split_keywords(text: str) -> list[str]:
    return [k for k in (text or "").split("、") if k]


@register.simple_tag
def phone_for(user, posting) -> str:
    """The posting's contact phone in full for those who may see it, masked for the rest."""
    phone = posting.contact_phone
    if not phone:
        return "—"
    return phone if access.may_see_phone(user, posting) else access.masked(phone)


@register.filter
def state_class(state: str) -> str:
    return {
        "published": "ok",
        "signed": "ok",
        "landed": "ok",
        "pending": "warn",
        "returned": "bad",
        "declined": "bad",
        "withdrawn": "bad",
    }.get(state, "")
