"""The registry API's schemas (django-ninja / pydantic).

Money is yuan, as decimal strings on output ("1234.50") and decimal strings or numbers on input;
staff figures are decimals too (年度月平均数 may have one decimal place). The yearly figures' schema
fields are generated from figures.FIGURES, so their labels and definitions are written once.

Input schemas forbid unknown fields (a misspelt or read-only field is an error, not silently ignored).
On PATCH only the fields sent are changed; null clears a field (text fields become empty).
Range and cross-field rules are the model's (full_clean), so the web forms, the importer and the API
report the same Chinese messages.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import create_model

from kechuang.core.api_schemas import InputSchema  # noqa: F401 (re-exported for the app's api)
from kechuang.enterprises import choices
from kechuang.enterprises.figures import FIGURES
from kechuang.enterprises.models import Enterprise, EnterpriseYear, IPAsset, Membership, Qualification


def _desc(model, name: str, extra: str = "") -> str:
    field = model._meta.get_field(name)
    text = str(field.verbose_name)
    if field.help_text:
        text += f"。{field.help_text}"
    return text + (f"。{extra}" if extra else "")


def _figure_description(figure) -> str:
    if figure.is_money:
        return f'{figure.label}。单位：元（十进制字符串，最多两位小数，如 "1234.50"；空为 null，不以 0 代替）。{figure.definition}'
    return (
        f"{figure.label}。单位：人（十进制字符串，最多一位小数；空为 null，不以 0 代替）。{figure.definition}"
    )


def _figure_fields() -> dict[str, Any]:
    return {
        figure.name: (Decimal | None, Field(None, description=_figure_description(figure)))
        for figure in FIGURES
    }


# ---------------------------------------------------------------------------------------------
# Enterprises


def phone_for(request, enterprise: Enterprise) -> str:
    """The contact phone in full for officers and the enterprise's own users, masked for the rest."""
    user = request.user
    cache = getattr(request, "_kechuang_phone_scope", None)
    if cache is None:
        own = set(
            Membership.objects.filter(user=user, enterprise__isnull=False).values_list(
                "enterprise_id", flat=True
            )
        )
        cache = (user.has_perm("enterprises.add_enterprise"), own)
        request._kechuang_phone_scope = cache
    keeper, own = cache
    return enterprise.contact_phone if keeper or enterprise.pk in own else enterprise.masked_phone


class EnterpriseOut(Schema):
    id: int
    uscc: str = Field(description=_desc(Enterprise, "uscc"))
    name: str = Field(description=_desc(Enterprise, "name"))
    short_name: str = Field(description=_desc(Enterprise, "short_name"))
    registration_date: date | None = Field(description=_desc(Enterprise, "registration_date"))
    park_id: int | None = Field(description=_desc(Enterprise, "park"))
    park_name: str | None = Field(description="所在园区名称")
    industry: str = Field(description=_desc(Enterprise, "industry", "门类代码；未填为空字符串"))
    industry_display: str = Field(description="所属行业名称")
    hitech_field: str = Field(description=_desc(Enterprise, "hitech_field", "领域代码；未填为空字符串"))
    hitech_field_display: str = Field(description="高新技术领域名称")
    main_business: str = Field(description=_desc(Enterprise, "main_business"))
    address: str = Field(description=_desc(Enterprise, "address"))
    legal_representative: str = Field(description=_desc(Enterprise, "legal_representative"))
    contact_phone: str = Field(
        description="联系电话。仅科委业务人员和本企业用户可见完整号码，其他角色看到脱敏号码（如 138****5678）"
    )
    status: str = Field(description=_desc(Enterprise, "status"))
    status_display: str = Field(description="状态名称")
    is_listed: bool = Field(description=_desc(Enterprise, "is_listed"))
    is_demo: bool = Field(description=_desc(Enterprise, "is_demo"))
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_park_name(obj) -> str | None:
        return obj.park.name if obj.park_id else None

    @staticmethod
    def resolve_industry_display(obj) -> str:
        return obj.get_industry_display()

    @staticmethod
    def resolve_hitech_field_display(obj) -> str:
        return obj.get_hitech_field_display()

    @staticmethod
    def resolve_status_display(obj) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_contact_phone(obj, context) -> str:
        return phone_for(context["request"], obj)


class EnterpriseCreate(InputSchema):
    uscc: str = Field(
        description=_desc(Enterprise, "uscc", "18位，按 GB 32100 校验；全角、小写、空格会被规范化")
    )
    name: str = Field(description=_desc(Enterprise, "name"))
    short_name: str | None = Field(None, description=_desc(Enterprise, "short_name"))
    registration_date: date | None = Field(None, description=_desc(Enterprise, "registration_date"))
    park_id: int | None = Field(None, description=_desc(Enterprise, "park", "园区 id"))
    industry: choices.Industry | None = Field(None, description=_desc(Enterprise, "industry"))
    hitech_field: choices.HitechField | None = Field(None, description=_desc(Enterprise, "hitech_field"))
    main_business: str | None = Field(None, description=_desc(Enterprise, "main_business"))
    address: str | None = Field(None, description=_desc(Enterprise, "address"))
    legal_representative: str | None = Field(None, description=_desc(Enterprise, "legal_representative"))
    contact_phone: str | None = Field(None, description=_desc(Enterprise, "contact_phone"))
    status: choices.EnterpriseStatus | None = Field(None, description=_desc(Enterprise, "status", "默认存续"))
    is_listed: bool | None = Field(None, description=_desc(Enterprise, "is_listed"))
    is_demo: bool | None = Field(None, description=_desc(Enterprise, "is_demo"))


class EnterprisePatch(EnterpriseCreate):
    """Only the fields sent change. Only officers may change 统一社会信用代码 and 示例数据; a park
    operator may move an enterprise only between its own parks; an enterprise user may not move it."""

    uscc: str | None = Field(None, description=_desc(Enterprise, "uscc", "仅科委业务人员可修改"))
    name: str | None = Field(None, description=_desc(Enterprise, "name"))


ORDERINGS = (
    "name",
    "-name",
    "uscc",
    "-uscc",
    "registration_date",
    "-registration_date",
    "updated_at",
    "-updated_at",
)


class EnterpriseFilters(Schema):
    q: str | None = Field(None, description="按企业名称、简称或统一社会信用代码（部分）搜索")
    park: int | None = Field(None, description="园区 id，含其下属分园/载体")
    industry: choices.Industry | None = Field(None, description="所属行业门类代码")
    hitech_field: choices.HitechField | None = Field(None, description="高新技术领域代码")
    status: choices.EnterpriseStatus | None = Field(None, description="状态")
    qualification: choices.QualificationKind | None = Field(
        None, description="只列出在 qualification_on 当日持有该类有效资质（有效期内）的企业"
    )
    qualification_on: date | None = Field(None, description="资质有效性的判断日期，默认今天")
    ordering: Literal[ORDERINGS] = Field("name", description="排序字段，前缀 - 表示降序；空值排在最后")  # type: ignore[valid-type]


# ---------------------------------------------------------------------------------------------
# Years

EnterpriseYearOut = create_model(
    "EnterpriseYearOut",
    __base__=Schema,
    __doc__="一家企业一个会计年度的数据。缺失为 null，不以 0 代替。",
    id=(int, ...),
    enterprise_id=(int, ...),
    year=(int, Field(..., description=_desc(EnterpriseYear, "year"))),
    **_figure_fields(),
    updated_at=(datetime, ...),
)

EnterpriseYearCreate = create_model(
    "EnterpriseYearCreate",
    __base__=InputSchema,
    year=(int, Field(..., description=_desc(EnterpriseYear, "year"))),
    **_figure_fields(),
)

EnterpriseYearPatch = create_model(
    "EnterpriseYearPatch",
    __base__=InputSchema,
    __doc__="只修改传入的字段；null 清空该项。",
    year=(int | None, Field(None, description=_desc(EnterpriseYear, "year"))),
    **_figure_fields(),
)


# ---------------------------------------------------------------------------------------------
# IP assets


class IPAssetOut(Schema):
    id: int
    enterprise_id: int
    ip_type: str = Field(description=_desc(IPAsset, "ip_type"))
    ip_type_display: str = Field(description="类型名称")
    ip_class: Literal["I", "II"] | None = Field(
        description="只读。Ⅰ类/Ⅱ类知识产权（国科发火〔2016〕195号 三(二)，由类型推出）；商标不计，为 null"
    )
    is_used_for_hnte: bool = Field(description="只读。Ⅱ类知识产权已用于高企认定（只能使用一次）")
    number: str = Field(description=_desc(IPAsset, "number"))
    title: str = Field(description=_desc(IPAsset, "title"))
    application_date: date | None = Field(description=_desc(IPAsset, "application_date"))
    grant_date: date | None = Field(description=_desc(IPAsset, "grant_date"))
    acquisition: str = Field(description=_desc(IPAsset, "acquisition"))
    status: str = Field(description=_desc(IPAsset, "status"))
    hnte_used_year: int | None = Field(description=_desc(IPAsset, "hnte_used_year"))

    @staticmethod
    def resolve_ip_type_display(obj) -> str:
        return obj.get_ip_type_display()


class IPAssetCreate(InputSchema):
    ip_type: choices.IPType = Field(description=_desc(IPAsset, "ip_type"))
    number: str = Field(description=_desc(IPAsset, "number"))
    title: str = Field(description=_desc(IPAsset, "title"))
    application_date: date | None = Field(None, description=_desc(IPAsset, "application_date"))
    grant_date: date | None = Field(None, description=_desc(IPAsset, "grant_date"))
    acquisition: choices.IPAcquisition | None = Field(
        None, description=_desc(IPAsset, "acquisition", "默认自主研发")
    )
    status: choices.IPStatus | None = Field(None, description=_desc(IPAsset, "status", "默认有效"))
    hnte_used_year: int | None = Field(None, description=_desc(IPAsset, "hnte_used_year"))


class IPAssetPatch(IPAssetCreate):
    ip_type: choices.IPType | None = Field(None, description=_desc(IPAsset, "ip_type"))
    number: str | None = Field(None, description=_desc(IPAsset, "number"))
    title: str | None = Field(None, description=_desc(IPAsset, "title"))


# ---------------------------------------------------------------------------------------------
# Qualifications


class QualificationOut(Schema):
    id: int
    enterprise_id: int
    kind: str = Field(description=_desc(Qualification, "kind"))
    kind_display: str = Field(description="资质类型名称")
    level: str = Field(description=_desc(Qualification, "level", "未填为空字符串"))
    certificate_no: str = Field(description=_desc(Qualification, "certificate_no"))
    issuer: str = Field(description=_desc(Qualification, "issuer"))
    issue_date: date = Field(description=_desc(Qualification, "issue_date"))
    expiry_date: date | None = Field(description=_desc(Qualification, "expiry_date"))
    is_valid_today: bool = Field(description="只读。今天是否在有效期内")
    days_to_expiry: int | None = Field(
        description="只读。距有效期最后一天的天数（已过期为负数）；长期有效为 null"
    )

    @staticmethod
    def resolve_kind_display(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_is_valid_today(obj) -> bool:
        return obj.is_valid_on()


class QualificationCreate(InputSchema):
    kind: choices.QualificationKind = Field(description=_desc(Qualification, "kind"))
    level: choices.QualificationLevel | None = Field(None, description=_desc(Qualification, "level"))
    certificate_no: str | None = Field(None, description=_desc(Qualification, "certificate_no"))
    issuer: str | None = Field(None, description=_desc(Qualification, "issuer"))
    issue_date: date = Field(description=_desc(Qualification, "issue_date"))
    expiry_date: date | None = Field(None, description=_desc(Qualification, "expiry_date"))


class QualificationPatch(QualificationCreate):
    kind: choices.QualificationKind | None = Field(None, description=_desc(Qualification, "kind"))
    issue_date: date | None = Field(None, description=_desc(Qualification, "issue_date"))
