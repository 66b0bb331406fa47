"""Demo data for 科技计划项目 calls: the programme 科技攻关 with its three directions, one open call with a
realistic form and score sheet, and a few draft and submitted applications by demo enterprises.

Where the programme comes from (docs/sources/, the documents' own text):
- 松科委〔2026〕13号《松江区科学技术委员会2026年工作要点》 三（七）, file `003_24d1a3d8067cc18f.txt` line 46:
  "修订《松江区科技攻关项目实施办法》，围绕联合攻关、医药卫生、科技农业三大方向开展专项申报，建立科技攻关项目
  全流程管理体系。" — the three sub-programmes are named there.
- 沪松府〔2025〕150号《松江区关于加快科技创新全链条发展的若干意见》 二（四）"鼓励关键技术攻关", file
  `001_c60c974973587176.txt` line 31: "…联合开展符合松江区产业导向的关键共性技术协同攻关研发…". That document
  states the policy; it does not itself name 联合攻关、医药卫生、科技农业.
The amounts, dates, form and applications are made up for the demo (marked 示例); not a real call.

Everything goes through the services (calls.call_create, applications.application_start / _save / budget_set /
attachment_add / application_submit) and the workflow engine, so the demo obeys the same rules as users.
`load_demo_calls()` is idempotent: a second run finds the demo call and does nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from kechuang.core import roles
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.projects import applications, calls
from kechuang.projects.models import Application, Call, Programme

SOURCE = "松科委〔2026〕13号 三（七）（docs/sources/003_…txt 第46行）；沪松府〔2025〕150号 二（四）（001_…txt 第31行）"
QUOTE = "修订《松江区科技攻关项目实施办法》，围绕联合攻关、医药卫生、科技农业三大方向开展专项申报，建立科技攻关项目全流程管理体系。"
PROGRAMMES = (
    ("kjgg", "科技攻关", None, f"松科委〔2026〕13号 三（七）：{QUOTE}"),
    (
        "kjgg-lhgg",
        "联合攻关",
        "kjgg",
        "企业牵头、联合高校院所开展关键共性技术协同攻关（沪松府〔2025〕150号 二（四））",
    ),
    ("kjgg-yyws", "医药卫生", "kjgg", "医药卫生领域的科技攻关"),
    ("kjgg-kjny", "科技农业", "kjgg", "农业科技领域的科技攻关"),
)
CALL_TITLE = "2026年度松江区科技攻关项目（示例）"
DEMO_APPLICANT = "demo-applicant-{pk}"
HITECH_FIELDS = [
    "电子信息",
    "生物与新医药",
    "航空航天",
    "新材料",
    "高技术服务",
    "新能源与节能",
    "资源与环境",
    "先进制造与自动化",
]

FORM = [
    {
        "key": "basic",
        "title": "项目基本信息",
        "fields": [
            {
                "key": "track",
                "label": "申报方向",
                "type": "choice",
                "required": True,
                "choices": ["联合攻关", "医药卫生", "科技农业"],
            },
            {
                "key": "hitech_field",
                "label": "技术领域",
                "type": "choice",
                "required": True,
                "choices": HITECH_FIELDS,
            },
            {"key": "start_date", "label": "计划开始日期", "type": "date", "required": True},
            {
                "key": "end_date",
                "label": "计划完成日期",
                "type": "date",
                "required": True,
                "help": "实施期一般不超过 2 年",
            },
            {"key": "leader", "label": "项目负责人", "type": "text", "required": True, "max_length": 20},
            {"key": "leader_title", "label": "负责人职称", "type": "text", "max_length": 20},
            {"key": "joint", "label": "是否产学研联合申报", "type": "boolean", "required": True},
            {"key": "partner", "label": "合作单位（高校、科研院所）", "type": "text", "max_length": 200},
        ],
    },
    {
        "key": "tech",
        "title": "技术内容",
        "fields": [
            {
                "key": "background",
                "label": "立项依据与必要性",
                "type": "textarea",
                "required": True,
                "max_length": 2000,
            },
            {
                "key": "content",
                "label": "主要研究内容与关键技术",
                "type": "textarea",
                "required": True,
                "max_length": 3000,
            },
            {
                "key": "innovation",
                "label": "创新点",
                "type": "textarea",
                "required": True,
                "max_length": 1000,
            },
            {
                "key": "schedule",
                "label": "实施计划与进度安排",
                "type": "textarea",
                "required": True,
                "max_length": 2000,
            },
            {"key": "basis", "label": "现有工作基础", "type": "textarea", "max_length": 1500},
        ],
    },
    {
        "key": "medical",
        "title": "医药卫生专项信息",
        "description": "申报方向为“医药卫生”时填写",
        "show_if": {"field": "track", "equals": "医药卫生"},
        "fields": [
            {
                "key": "product_class",
                "label": "产品类别",
                "type": "choice",
                "required": True,
                "choices": ["创新药", "医疗器械", "体外诊断", "其他"],
            },
            {"key": "clinical", "label": "是否涉及临床研究", "type": "boolean", "required": True},
        ],
    },
    {
        "key": "clinical_study",
        "title": "临床研究与伦理",
        "description": "涉及临床研究时填写",
        "show_if": {"field": "clinical", "equals": True},
        "fields": [
            {
                "key": "ethics",
                "label": "伦理审查情况",
                "type": "textarea",
                "required": True,
                "max_length": 1000,
            },
            {"key": "ethics_file", "label": "伦理审查批件", "type": "file", "required": True},
        ],
    },
    {
        "key": "agriculture",
        "title": "科技农业专项信息",
        "description": "申报方向为“科技农业”时填写",
        "show_if": {"field": "track", "equals": "科技农业"},
        "fields": [
            {
                "key": "demo_base",
                "label": "示范基地名称及面积",
                "type": "text",
                "required": True,
                "max_length": 200,
            },
            {"key": "farmers", "label": "预计带动农户（户）", "type": "number"},
        ],
    },
    {
        "key": "outcomes",
        "title": "预期成果",
        "fields": [
            {
                "key": "outcome_forms",
                "label": "成果形式",
                "type": "multichoice",
                "required": True,
                "choices": ["新产品", "新工艺", "新装备", "新品种", "发明专利", "软件著作权", "标准", "论文"],
            },
            {"key": "patents", "label": "申请发明专利（件）", "type": "number", "required": True},
            {"key": "new_revenue", "label": "项目完成后新增销售收入（元）", "type": "money"},
            {
                "key": "indicators",
                "label": "考核指标",
                "type": "textarea",
                "required": True,
                "max_length": 2000,
                "help": "可考核的技术指标与经济指标，验收时逐项核对",
            },
        ],
    },
    {
        "key": "budget",
        "title": "经费预算",
        "description": "预算科目与金额在“经费预算”表中填写，此处说明测算依据",
        "fields": [
            {
                "key": "budget_note",
                "label": "经费预算说明",
                "type": "textarea",
                "required": True,
                "max_length": 1500,
            },
            {
                "key": "self_source",
                "label": "自筹资金来源",
                "type": "text",
                "required": True,
                "max_length": 200,
            },
            {"key": "budget_file", "label": "经费预算明细表", "type": "file", "required": True},
            {"key": "licence", "label": "营业执照", "type": "file", "required": True},
        ],
    },
]
SCORE_SHEET = [
    {"key": "innovation", "label": "技术创新性", "max": 100, "weight": 30},
    {"key": "feasibility", "label": "技术路线与实施方案可行性", "max": 100, "weight": 25},
    {"key": "team", "label": "团队与工作基础", "max": 100, "weight": 15},
    {"key": "benefit", "label": "预期成果与经济社会效益", "max": 100, "weight": 20},
    {"key": "budget", "label": "经费预算合理性", "max": 100, "weight": 10},
]
ELIGIBILITY = [
    {"rule": "registered_in_songjiang", "label": "在松江区注册、存续经营的企业"},
    {"rule": "no_open_application_in_programme", "label": "在科技攻关计划其他批次中无在审或在研项目"},
]
GUIDE = """（示例数据，不是真实的申报指南）
一、支持方向：围绕联合攻关、医药卫生、科技农业三大方向（松科委〔2026〕13号 三（七）），支持企业牵头、联合高校院所开展符合松江区产业导向的关键共性技术协同攻关（沪松府〔2025〕150号 二（四））。
二、支持方式：无偿资助，单个项目资助不超过 50 万元；实施期一般不超过 2 年。
三、申报要求：申报单位为在松江区注册、存续经营的企业；同一单位在科技攻关计划内有在审或在研项目的不得申报。
四、截止时间：以本批次“截止时间”为准，截止时刻之前（含截止时刻）提交有效。"""

# Two submitted (one 医药卫生 with its conditional sections), two drafts.
APPLICATIONS = (
    {
        "title": "面向5G模组的低功耗射频前端关键技术攻关（示例）",
        "submit": True,
        "data": {
            "track": "联合攻关",
            "hitech_field": "电子信息",
            "start_date": "2026-09-01",
            "end_date": "2028-08-31",
            "leader": "示例负责人甲",
            "leader_title": "高级工程师",
            "joint": True,
            "partner": "示例高校甲",
            "background": "示例：模组功耗制约终端续航，射频前端是主要耗电环节。",
            "content": "示例：包络跟踪供电、天线调谐与低功耗调度算法。",
            "innovation": "示例：自适应包络跟踪与调度协同。",
            "schedule": "示例：第一年完成方案与样片，第二年完成验证与小批量试产。",
            "outcome_forms": ["新产品", "发明专利"],
            "patents": "3",
            "new_revenue": "8000000",
            "indicators": "示例：待机功耗降低 20%；申请发明专利 3 件。",
            "budget_note": "示例：设备费用于射频测试仪器，业务费用于流片与测试，劳务费用于项目聘用人员。",
            "self_source": "企业自有资金",
        },
        "budget": {
            "equipment": ("150000", "200000"),
            "business": ("250000", "300000"),
            "labour": ("80000", "100000"),
        },
    },
    {
        "title": "植入式神经电极生物相容涂层研发（示例）",
        "submit": True,
        "data": {
            "track": "医药卫生",
            "hitech_field": "生物与新医药",
            "start_date": "2026-10-01",
            "end_date": "2028-09-30",
            "leader": "示例负责人乙",
            "leader_title": "研究员",
            "joint": False,
            "background": "示例：长期植入电极的组织反应影响信号质量。",
            "content": "示例：涂层材料筛选、体外细胞毒性与动物实验。",
            "innovation": "示例：可降解抗炎涂层。",
            "schedule": "示例：材料筛选 6 个月，动物实验 12 个月，总结 6 个月。",
            "product_class": "医疗器械",
            "clinical": True,
            "ethics": "示例：动物实验已通过单位伦理委员会审查。",
            "outcome_forms": ["新产品", "发明专利", "论文"],
            "patents": "2",
            "indicators": "示例：涂层电极 12 周阻抗漂移小于 15%。",
            "budget_note": "示例：业务费用于材料与动物实验，间接费用按规定比例核定。",
            "self_source": "企业自有资金",
        },
        "budget": {
            "business": ("300000", "300000"),
            "labour": ("60000", "40000"),
            "indirect": ("40000", "0"),
        },
    },
    {
        "title": "设施农业智能灌溉装备研制（示例）",
        "submit": False,
        "data": {
            "track": "科技农业",
            "hitech_field": "先进制造与自动化",
            "leader": "示例负责人丙",
            "joint": False,
            "demo_base": "示例：松江某合作社示范基地 200 亩",
        },
        "budget": {"equipment": ("100000", "100000")},
    },
    {
        "title": "工业视觉缺陷检测算法平台（示例）",
        "submit": False,
        "data": {"track": "联合攻关", "hitech_field": "电子信息"},
        "budget": {},
    },
)


@dataclass
class DemoCallsReport:
    programmes: int = 0
    experts: int = 0
    call: Call | None = None
    created: bool = False
    drafts: int = 0
    submitted: int = 0
    skipped: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.created:
            return f"示例申报批次“{CALL_TITLE}”已存在，未重复生成。"
        lines = [
            f"科技计划 {self.programmes} 个；申报批次“{CALL_TITLE}”（受理中）；申报 {self.submitted} 份已提交、{self.drafts} 份草稿；"
            f"专家库 {self.experts} 人（示例专家账号 expert 已登记为专家）。"
        ]
        lines += self.skipped
        return "\n".join(lines)


def _pdf(title: str) -> ContentFile:
    body = f"%PDF-1.4\n% {title} (示例附件)\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".encode()
    return ContentFile(body, name=f"{title}.pdf")


def _user(username: str, role: roles.Role) -> User:
    """A demo actor that cannot log in (unusable password), in `role`'s group."""
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": "示例申报人"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role.name))
    return User.objects.get(pk=user.pk)


def _officer() -> User:
    found = User.objects.filter(groups__name=roles.OFFICER.name, is_active=True).order_by("pk").first()
    return User.objects.get(pk=found.pk) if found else _user("demo-projects-officer", roles.OFFICER)


def _applicant(enterprise: Enterprise) -> User:
    """A user of the enterprise: the demo enterprise account when it acts for it, else a demo actor."""
    member = (
        User.objects.filter(
            memberships__enterprise=enterprise, is_active=True, groups__name=roles.ENTERPRISE.name
        )
        .order_by("pk")
        .first()
    )
    if member:
        return User.objects.get(pk=member.pk)
    user = _user(DEMO_APPLICANT.format(pk=enterprise.pk), roles.ENTERPRISE)
    Membership.objects.get_or_create(user=user, enterprise=enterprise)
    return User.objects.get(pk=user.pk)


def _enterprises(count: int) -> list[Enterprise]:
    from kechuang.enterprises.demo import KEY_ENTERPRISE_USER

    active = Enterprise.objects.filter(is_demo=True, status="active", park__isnull=False)
    chosen = list(active.filter(name=KEY_ENTERPRISE_USER)[:1])
    chosen += list(active.exclude(pk__in=[e.pk for e in chosen]).order_by("pk")[: count - len(chosen)])
    return chosen


@transaction.atomic
def load_demo_calls(*, now: dt.datetime | None = None) -> DemoCallsReport:
    """The programme tree, the open demo call and its applications (needs `kechuang demo` first for the
    enterprises; without demo enterprises only the programmes and the call are made)."""
    roles.roles_sync()
    report = DemoCallsReport()
    by_code: dict[str, Programme] = {}
    for code, name, parent, description in PROGRAMMES:
        programme, _ = Programme.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": by_code.get(parent),
                "description": description,
                "source": SOURCE,
            },
        )
        by_code[code] = programme
    report.programmes = len(by_code)
    report.experts = _experts()
    existing = Call.objects.filter(title=CALL_TITLE).first()
    if existing:
        report.call = existing
        return report
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    five_pm = dt.time(17, 0)
    officer = _officer()
    call = calls.call_create(
        programme=by_code["kjgg"],
        user=officer,
        year=today.year,
        title=CALL_TITLE,
        guide=GUIDE,
        budget_total=Decimal("10000000"),
        cap_per_project=Decimal("500000"),
        opens_at=timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=14), dt.time(9, 0))),
        closes_at=timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=30), five_pm)),
        eligibility=ELIGIBILITY,
        form=FORM,
        score_sheet=SCORE_SHEET,
        experts_per_application=5,
    )
    report.call = calls.call_open(call, user=officer, reason="示例数据")
    report.created = True
    enterprises = _enterprises(len(APPLICATIONS))
    if len(enterprises) < len(APPLICATIONS):
        report.skipped.append(
            f"示例企业只有 {len(enterprises)} 家（先运行 kechuang demo），只生成了相应份数的申报。"
        )
    for spec, enterprise in zip(APPLICATIONS, enterprises, strict=False):
        user = _applicant(enterprise)
        application = applications.application_start(
            call=call, enterprise=enterprise, title=spec["title"], user=user
        )
        applications.application_save(application, data=spec["data"], user=user)
        lines = {c: {"subsidy": s, "self_funded": o, "note": "示例"} for c, (s, o) in spec["budget"].items()}
        if lines:
            applications.budget_set(application, lines=lines, user=user)
        if spec["submit"]:
            for key, title in (
                ("budget_file", "经费预算明细表"),
                ("licence", "营业执照"),
                ("ethics_file", "伦理审查批件"),
            ):
                if key == "ethics_file" and spec["data"].get("clinical") is not True:
                    continue
                applications.attachment_add(application, upload=_pdf(title), field_key=key, user=user)
            applications.application_submit(Application.objects.get(pk=application.pk), user=user)
            report.submitted += 1
        else:
            report.drafts += 1
    return report


# The demo expert pool: the demo account `expert` (when `kechuang demo_accounts` has made it) and a few more, in
# the fields of the demo applications, so that an officer can propose reviewers and the expert has an inbox.
DEMO_EXPERTS = (
    ("expert", "示例专家", "松江大学城某高校", ["01", "02"], "集成电路、通信、生物医药"),
    (None, "陈教授", "东华大学", ["01", "07"], "先进制造、纤维材料、智能装备"),
    (None, "李研究员", "中国科学院上海分院", ["02"], "创新药、医疗器械、细胞治疗"),
    (None, "王高工", "上海市集成电路行业协会", ["01"], "芯片设计、封装测试、射频"),
    (None, "赵教授", "上海工程技术大学", ["01", "06"], "人工智能、机器人、新能源"),
    (None, "周博士", "上海交通大学医学院", ["02"], "医学影像、临床试验、脑机接口"),
)


def _experts() -> int:
    from django.contrib.auth.models import User

    from kechuang.projects.models import Expert

    for username, name, organisation, fields, keywords in DEMO_EXPERTS:
        user = User.objects.filter(username=username).first() if username else None
        if username and user is None:
            continue
        Expert.objects.update_or_create(
            name=name,
            organisation=organisation,
            defaults={
                "user": user,
                "fields": fields,
                "keywords": keywords,
                "title": "教授级高工" if user else "",
            },
        )
    return Expert.objects.count()
