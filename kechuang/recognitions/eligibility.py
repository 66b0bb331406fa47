"""The conditions of 高新技术成果转化项目认定 (沪科规〔2020〕8号, qualification-rules.md §6), checked for one project
and explained in Chinese like the tiering results: each condition met (满足), not met (不满足) or unknown (待定,
data missing or an officer's judgement still to come — never silently taken as met or not met), with the
project's value, what is required and the article it comes from.

Core IP age (第六条第（二）项): a 发明专利 granted, or a 集成电路布图设计 registered, within 3 years before the
application date; a 实用新型 granted, or a 软件著作权 registered, within 2 years. "Within N years" counts from the
same calendar day N years before the application date, which is inside the window (29 February → 28 February):
applied 2026-06-30, an invention granted 2023-06-30 is in time, one granted 2023-06-29 is one day too old. A
grant after the application date is not in time. A project's application date is `applied_on` (set when it is
submitted); a draft is checked as if applied today.

Exclusions (不予认定情形) are an officer's judgement (TransformationProject.exclusion); the default, 尚未判断,
is "unknown" — the district may recommend with it, but a recognition is recorded only once it is judged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from kechuang.enterprises.choices import EnterpriseStatus, HitechField, IPStatus, IPType
from kechuang.recognitions.choices import Exclusion

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
STATUS_TEXT = {MET: "满足", NOT_MET: "不满足", UNKNOWN: "待定"}

DOCUMENT = "沪科规〔2020〕8号"
IN_FORCE_UNTIL = dt.date(2025, 11, 17)  # qualification-rules.md §6: in force 2020-11-18 to 2025-11-17
EXPIRY_NOTE = (
    "沪科规〔2020〕8号 有效期至 2025-11-17，是否有后续办法或延期待核实；本平台仍按该办法的条件检查。"
)

# 第六条第（二）项: years within which the IP must have been granted or registered.
IP_WINDOWS = {
    IPType.INVENTION: 3,
    IPType.IC_LAYOUT: 3,
    IPType.UTILITY_MODEL: 2,
    IPType.SOFTWARE: 2,
}
REGISTERED_TYPES = (IPType.IC_LAYOUT, IPType.SOFTWARE)  # 登记 rather than 授权
IP_SOURCE = f"{DOCUMENT} 第六条第（二）项"


@dataclass
class Condition:
    code: str
    label: str
    status: str
    value: str  # the project's or applicant's value, in words
    requirement: str
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


@dataclass
class IPCheck:
    ip: object  # enterprises.IPAsset
    status: str
    text: str
    window_start: dt.date | None = None

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]


@dataclass
class Result:
    on: dt.date  # the application date the IP windows are counted back from
    conditions: list[Condition]
    ip_checks: list[IPCheck]
    notes: list[str]

    @property
    def status(self) -> str:
        statuses = {c.status for c in self.conditions}
        return NOT_MET if NOT_MET in statuses else UNKNOWN if UNKNOWN in statuses else MET

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def not_met(self) -> list[Condition]:
        return [c for c in self.conditions if c.status == NOT_MET]

    @property
    def unknown(self) -> list[Condition]:
        return [c for c in self.conditions if c.status == UNKNOWN]

    def by_code(self, code: str) -> Condition:
        return next(c for c in self.conditions if c.code == code)

    def refusal(self) -> str:
        """The conditions not met, in one sentence (empty when none)."""
        return "；".join(f"不满足“{c.label}”：{c.value}（{c.source}）" for c in self.not_met)


def years_before(on: dt.date, years: int) -> dt.date:
    """The same calendar day `years` before `on`; 29 February falls back to 28 February."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def ip_check(ip, on: dt.date) -> IPCheck:
    """Whether one IP asset supports the project under 第六条第（二）项 on application date `on`."""
    label = ip.get_ip_type_display()
    what = f"{label} {ip.number}"
    if ip.ip_type == IPType.NEW_DRUG:
        return IPCheck(
            ip,
            UNKNOWN,
            f"{what}：一、二类新药在监测期内的项目不受时限，但核心技术仍须有发明专利保护，须人工核实",
        )
    years = IP_WINDOWS.get(ip.ip_type)
    if years is None:
        return IPCheck(
            ip,
            NOT_MET,
            f"{what}：不属于第六条第（二）项所列的知识产权（发明专利、集成电路布图设计、实用新型、软件著作权）",
        )
    verb = "登记" if ip.ip_type in REGISTERED_TYPES else "授权"
    start = years_before(on, years)
    if ip.status == IPStatus.LAPSED:
        return IPCheck(ip, NOT_MET, f"{what}：已失效", start)
    if ip.grant_date is None:
        if ip.status == IPStatus.PENDING:
            return IPCheck(ip, NOT_MET, f"{what}：尚在申请中，未{verb}", start)
        return IPCheck(ip, UNKNOWN, f"{what}：企业库未登记{verb}日，无法判断是否在 {years} 年内", start)
    if ip.grant_date > on:
        return IPCheck(ip, NOT_MET, f"{what}：{ip.grant_date} {verb}，晚于申请日 {on}", start)
    if ip.grant_date < start:
        days = (start - ip.grant_date).days
        return IPCheck(
            ip,
            NOT_MET,
            f"{what}：{ip.grant_date} {verb}，超过 {years} 年时限 {days} 天（须在 {start} 及以后{verb}）",
            start,
        )
    return IPCheck(ip, MET, f"{what}：{ip.grant_date} {verb}，在 {years} 年时限内（{start} 至 {on}）", start)


def _declaration(code: str, label: str, declared: bool) -> Condition:
    return Condition(
        code,
        label,
        MET if declared else NOT_MET,
        "申请人已声明" if declared else "申请人未作出该项声明（须声明方可提交）",
        "申请人声明：近两年内" + label if code != "not_dishonest" else "申请人声明：" + label,
        f"{DOCUMENT} 第五条",
    )


def _applicant(enterprise) -> Condition:
    label = "在本市注册的法人或其他组织"
    source = f"{DOCUMENT} 第五条"
    requirement = "在上海市注册、持续从事研发与成果转化的法人或其他组织"
    if enterprise.status != EnterpriseStatus.ACTIVE:
        value = f"企业状态为“{enterprise.get_status_display()}”"
        return Condition("applicant", label, NOT_MET, value, requirement, source)
    if enterprise.park_id:
        value = f"存续企业，所在园区：{enterprise.park}"
        return Condition("applicant", label, MET, value, requirement, source)
    if "上海" in (enterprise.address or "") or "松江" in (enterprise.address or ""):
        value = f"存续企业，注册地址：{enterprise.address}"
        return Condition("applicant", label, MET, value, requirement, source)
    value = "企业库未记录所在园区，注册地址也未显示在上海市"
    return Condition("applicant", label, UNKNOWN, value, requirement, source, ["请核实营业执照"])


def _field(project) -> Condition:
    label = "核心技术属于《国家重点支持的高新技术领域》"
    source = f"{DOCUMENT} 第六条第（一）项；《国家重点支持的高新技术领域》（国科发火〔2016〕32号 附件）"
    requirement = "八个一级领域之一：" + "、".join(dict(HitechField.choices).values())
    notes = ["领域归属（含“……除外”的情形）最终由专家评审确认"]
    if not project.field:
        return Condition("field", label, UNKNOWN, "未填写技术领域", requirement, source, notes)
    labels = dict(HitechField.choices)
    if project.field not in labels:
        return Condition("field", label, NOT_MET, f"领域代码“{project.field}”不在目录中", requirement, source)
    value = labels[project.field] + (f" · {project.field_detail}" if project.field_detail else "")
    return Condition("field", label, MET, value, requirement, source, notes)


def _core_ip(checks: list[IPCheck]) -> Condition:
    label = "核心技术有有效期内的自主知识产权"
    requirement = "发明专利、集成电路布图设计 3 年内授权（登记）；实用新型、软件著作权 2 年内授权（登记）"
    if not checks:
        return Condition("core_ip", label, NOT_MET, "未关联核心知识产权", requirement, IP_SOURCE)
    statuses = {c.status for c in checks}
    status = MET if MET in statuses else UNKNOWN if UNKNOWN in statuses else NOT_MET
    met = [c for c in checks if c.status == MET]
    if met:
        value = f"{len(met)} 项符合：" + "；".join(c.text for c in met)
    else:
        value = "；".join(c.text for c in checks)
    return Condition("core_ip", label, status, value, requirement, IP_SOURCE)


def _first_transformation(project, on: dt.date) -> Condition:
    label = "核心技术首次转化为样品、样机或服务"
    source = f"{DOCUMENT} 第六条"
    requirement = "首次转化（不是已形成规模销售的成熟产品）"
    when = project.first_transformed_on
    if when is None:
        return Condition("first_transformation", label, UNKNOWN, "未填写首次转化日期", requirement, source)
    if when > on:
        value = f"首次转化日期 {when} 晚于申请日 {on}"
        return Condition("first_transformation", label, NOT_MET, value, requirement, source)
    return Condition(
        "first_transformation", label, MET, f"{when} 首次转化：{project.product}", requirement, source
    )


def _scope() -> Condition:
    return Condition(
        "business_scope",
        "产品（服务）属于申请单位的经营范围",
        UNKNOWN,
        "企业库未记录经营范围",
        "产品（服务）在营业执照经营范围内",
        f"{DOCUMENT} 第六条第（三）项",
        ["形式审查时核对营业执照"],
    )


def _test_report(project) -> Condition:
    label = "有第三方质量或性能检测报告"
    source = f"{DOCUMENT} 第六条第（四）项、第十条"
    requirement = "第三方检测报告；特殊行业须有生产许可，强制认证产品须有 CCC 认证"
    if not project.test_report_no.strip():
        return Condition("test_report", label, NOT_MET, "未填写检测报告编号", requirement, source)
    return Condition("test_report", label, MET, f"检测报告编号 {project.test_report_no}", requirement, source)


def _exclusion(project) -> Condition:
    label = "不属于不予认定的情形"
    source = f"{DOCUMENT} 不予认定情形（条号待核实）"
    requirement = "不属于：" + "；".join(label for value, label in Exclusion.choices[2:])
    notes = ["由科委业务人员判断；默认“尚未判断”，按待定计，不按满足计"]
    if project.exclusion_note:
        notes.insert(0, f"判断说明：{project.exclusion_note}")
    if project.exclusion == Exclusion.NOT_JUDGED:
        return Condition("exclusion", label, UNKNOWN, "尚未判断", requirement, source, notes)
    if project.exclusion == Exclusion.NONE:
        return Condition("exclusion", label, MET, "经判断不属于不予认定情形", requirement, source, notes)
    value = f"经判断属于“{project.get_exclusion_display()}”"
    return Condition("exclusion", label, NOT_MET, value, requirement, source, notes)


def application_date(project, today: dt.date | None = None) -> dt.date:
    return project.applied_on or today or timezone.localdate()


def check(project, *, on: dt.date | None = None, ips=None) -> Result:
    """Every condition for `project`, on its application date (or `on`, or today for a draft). `ips` (the core
    IP assets) may be passed when already fetched; otherwise they are read."""
    on = on or application_date(project)
    ips = list(project.core_ip.order_by("-grant_date", "number") if ips is None else ips)
    ip_checks = [ip_check(ip, on) for ip in ips]
    conditions = [
        _applicant(project.enterprise),
        _declaration("no_infringement", "无知识产权侵权行为", project.no_infringement),
        _declaration(
            "no_accident", "无重大安全、质量事故，无严重环境违法、科研失信行为", project.no_accident
        ),
        _declaration("not_dishonest", "未被列入严重违法失信名单", project.not_dishonest),
        _field(project),
        _core_ip(ip_checks),
        _first_transformation(project, on),
        _scope(),
        _test_report(project),
        _exclusion(project),
    ]
    notes = [EXPIRY_NOTE] if on > IN_FORCE_UNTIL else []
    return Result(on, conditions, ip_checks, notes)
