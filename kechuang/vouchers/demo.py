"""Demo data for 科技创新券: the 2026 scheme, a catalogue of twelve providers (检验检测、研发服务、共享仪器) with
their services, applications in every state, vouchers, redemptions (submitted, verified, settled, refused), one
settlement, and one abuse flag of each kind — each made the way a user would, through the services.

Where the scheme comes from (docs/sources/, the documents' own text):
- 沪松府〔2025〕150号《松江区关于加快科技创新全链条发展的若干意见》 二（七）, file `001_c60c974973587176.txt`
  line 41: "支持科技企业通过上海科技创新券平台获得技术研发、检验检测、创新资源共享等服务" — the three kinds of
  provider of the catalogue;
- 松科委〔2026〕13号《松江区科学技术委员会2026年工作要点》, file `003_24d1a3d8067cc18f.txt` line 28:
  "改革完善创新券运用".
The amounts, dates, providers and their services are made up for the demo (marked 示例); not a real scheme.

`load_demo_vouchers()` is idempotent: a second run finds the demo scheme and does nothing. The demo enterprises
come from `kechuang demo`; the demo account `provider` (服务机构) is made only where the public demo accounts
exist (`kechuang demo_accounts`), with their public password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from kechuang.core import roles
from kechuang.core.uscc import make_code
from kechuang.enterprises.models import Enterprise, Membership
from kechuang.vouchers import redemptions, services, settlement
from kechuang.vouchers.models import (
    FlagKind,
    Provider,
    ProviderMember,
    ProviderService,
    SchemeState,
    VoucherScheme,
)

SCHEME_NAME = "科技创新券（示例）"
SOURCE = "沪松府〔2025〕150号 二（七）（docs/sources/001_…txt 第41行）；松科委〔2026〕13号（003_…txt 第28行）"
DEMO_ACTOR = "demo-voucher-{pk}"
PROVIDER_ACCOUNT = "provider"

# (name, kind, legal representative, address, contact, [(service, category, unit price, unit, description)])
PROVIDERS = [
    (
        "上海松江质检技术服务有限公司（示例）",
        "testing",
        "欧阳明远",
        "上海市松江区文汇路 928 号",
        "陆工",
        [
            ("电磁兼容（EMC）检测", "testing", "8000", "项", "GB/T 17626 系列抗扰度与辐射发射测试"),
            ("材料成分分析", "testing", "1200", "样", "ICP-OES 元素分析，出具 CMA 报告"),
            ("环境可靠性试验", "testing", "3500", "项", "高低温、湿热、振动"),
        ],
    ),
    (
        "上海大学城检测认证中心（示例）",
        "testing",
        "司马若兰",
        "上海市松江区龙腾路 333 号",
        "沈老师",
        [
            ("纺织品功能性检测", "testing", "900", "样", "抗菌、防紫外、吸湿速干"),
            ("食品安全检测", "testing", "1500", "样", "农残、重金属、微生物"),
        ],
    ),
    (
        "上海临港计量测试有限公司（示例）",
        "testing",
        "上官嘉禾",
        "上海市松江区新飞路 1500 号",
        "周工",
        [
            ("仪器设备校准", "testing", "600", "台", "长度、力学、电学计量校准"),
            ("软件产品登记测试", "testing", "6000", "项", "功能、性能与安全测试"),
        ],
    ),
    (
        "上海G60检验检测有限公司（示例）",
        "testing",
        "诸葛远航",
        "上海市松江区九亭镇沪亭北路 218 号",
        "钱工",
        [
            ("新能源汽车零部件检测", "testing", "12000", "项", "电池包安全、电机性能"),
            ("集成电路失效分析", "testing", "9000", "项", "开封、切片、SEM/EDS"),
        ],
    ),
    (
        "上海东华纺织新材料研发服务有限公司（示例）",
        "rd",
        "皇甫清和",
        "上海市松江区人民北路 2999 号",
        "吴博士",
        [
            ("新材料配方开发", "rd", "80000", "项", "功能纤维与复合材料配方委托开发"),
            ("中试工艺验证", "rd", "30000", "批", "小批量中试与工艺参数优化"),
        ],
    ),
    (
        "上海工程技术大学技术转移中心有限公司（示例）",
        "rd",
        "东方启明",
        "上海市松江区龙腾路 333 号 8 号楼",
        "许老师",
        [
            ("技术开发委托", "rd", "50000", "项", "机械、电气、控制系统委托开发"),
            ("专利导航分析", "rd", "20000", "项", "产业专利布局与风险分析"),
        ],
    ),
    (
        "上海松江工业设计研究院有限公司（示例）",
        "rd",
        "慕容思齐",
        "上海市松江区广富林路 658 弄 12 号",
        "何设计师",
        [
            ("产品工业设计", "rd", "40000", "项", "外观、结构与人机工程设计"),
            ("样机快速制造", "rd", "15000", "件", "3D 打印与 CNC 样机"),
        ],
    ),
    (
        "上海脑智科创研发服务有限公司（示例）",
        "rd",
        "南宫语嫣",
        "上海市松江区中山街道荣乐东路 58 号",
        "林博士",
        [
            ("算法模型委托开发", "rd", "60000", "项", "视觉、语音与脑电信号算法"),
            ("数据标注与评测", "rd", "10000", "批", "标注、质检与模型评测"),
        ],
    ),
    (
        "松江大学城大型仪器共享平台（示例）",
        "instrument",
        "公孙立言",
        "上海市松江区文汇路 300 号",
        "平台办",
        [
            ("扫描电子显微镜机时", "instrument", "600", "机时", "SEM 形貌观察与能谱"),
            ("核磁共振波谱机时", "instrument", "900", "机时", "400 MHz 液体核磁"),
        ],
    ),
    (
        "上海G60科创走廊仪器共享服务中心（示例）",
        "instrument",
        "令狐景行",
        "上海市松江区洞泾镇长兴路 688 号",
        "唐主任",
        [
            ("X 射线衍射机时", "instrument", "500", "机时", "XRD 物相分析"),
            ("激光粒度分析", "instrument", "300", "样", "湿法、干法粒度分布"),
        ],
    ),
    (
        "上海洞泾智能制造共享实验室有限公司（示例）",
        "instrument",
        "夏侯安然",
        "上海市松江区洞泾镇振业路 280 号",
        "郑工",
        [
            ("工业机器人测试台架", "instrument", "800", "机时", "重复定位精度与负载测试"),
            ("三坐标测量", "instrument", "400", "机时", "精密尺寸测量"),
        ],
    ),
    (
        "上海佘山生物医药公共技术服务平台（示例）",
        "instrument",
        "尉迟书瑶",
        "上海市松江区佘山镇林荫新路 1258 号",
        "冯老师",
        [
            ("细胞培养与检测平台", "instrument", "1200", "天", "GMP 级细胞房"),
            ("流式细胞仪机时", "instrument", "700", "机时", "多色流式分析"),
        ],
    ),
]


@dataclass
class DemoVouchersReport:
    created: bool = False
    providers: int = 0
    services: int = 0
    applications: int = 0
    vouchers: int = 0
    redemptions: int = 0
    settlements: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    provider_account: str = ""
    skipped: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.created:
            return f"示例创新券方案“{SCHEME_NAME}”已存在，未重复生成。"
        kinds = "、".join(f"{FlagKind(k).label} {n}" for k, n in self.flags.items())
        lines = [
            f"创新券：年度方案 1 个（受理中）；服务机构 {self.providers} 家、服务 {self.services} 项；申请 {self.applications} 份，"
            f"发券 {self.vouchers} 张，兑付 {self.redemptions} 笔，结算 {self.settlements} 次；异常预警：{kinds}。"
        ]
        if self.provider_account:
            lines.append(self.provider_account)
        lines += self.skipped
        return "\n".join(lines)


def _user(username: str, role: roles.Role, first_name: str) -> User:
    """A demo actor that cannot log in (unusable password), in `role`'s group."""
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role.name))
    return User.objects.get(pk=user.pk)


def _officer() -> User:
    found = User.objects.filter(groups__name=roles.OFFICER.name, is_active=True).order_by("pk").first()
    return (
        User.objects.get(pk=found.pk) if found else _user("demo-vouchers-officer", roles.OFFICER, "示例科委")
    )


def _member(enterprise: Enterprise) -> User:
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
    user = _user(DEMO_ACTOR.format(pk=enterprise.pk), roles.ENTERPRISE, "示例企业用户")
    Membership.objects.get_or_create(user=user, enterprise=enterprise)
    return User.objects.get(pk=user.pk)


def _provider_user(provider: Provider) -> User:
    user = _user(f"demo-provider-{provider.pk}", roles.PROVIDER, "示例服务机构")
    ProviderMember.objects.get_or_create(user=user, provider=provider)
    return User.objects.get(pk=user.pk)


def _enterprises(count: int) -> list[Enterprise]:
    from kechuang.enterprises.demo import KEY_ENTERPRISE_USER

    active = Enterprise.objects.filter(is_demo=True, status="active", park__isnull=False).exclude(
        legal_representative=""
    )
    chosen = list(active.filter(name=KEY_ENTERPRISE_USER)[:1])
    chosen += list(active.exclude(pk__in=[e.pk for e in chosen]).order_by("pk")[: count - len(chosen)])
    return chosen


def _apply(scheme, enterprise, amount: str, purpose: str, services_=()):
    user = _member(enterprise)
    application = services.application_save(
        enterprise=enterprise,
        scheme=scheme,
        requested_amount=amount,
        purpose=purpose,
        planned_services=list(services_),
        user=user,
    )
    return application, user


class _Invoices:
    """Invoice numbers of the demo: 20 digits, as 全面数字化的电子发票 have."""

    def __init__(self, today: dt.date):
        self.prefix = f"{today:%y}31{today:%m%d}"
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:012d}"


@transaction.atomic
def load_demo_vouchers(*, now: dt.datetime | None = None) -> DemoVouchersReport:
    roles.roles_sync()
    report = DemoVouchersReport()
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    year = today.year
    if VoucherScheme.objects.filter(name=SCHEME_NAME, year=year).exists():
        return report
    officer = _officer()
    scheme = services.scheme_save(
        year=year,
        name=SCHEME_NAME,
        budget_total="5000000",
        cap_per_enterprise="200000",
        share_pct="50",
        opens_on=dt.date(year, 1, 1),
        closes_on=dt.date(year, 12, 31),
        valid_until=dt.date(year + 1, 6, 30),
        source=SOURCE,
        user=officer,
    )
    services.scheme_set_state(scheme, SchemeState.OPEN, user=officer)
    report.created = True

    providers: list[Provider] = []
    catalogue: dict[str, ProviderService] = {}
    for number, (name, kind, legal, address, contact, offered) in enumerate(PROVIDERS, 1):
        provider = Provider.objects.filter(name=name).first() or services.provider_save(
            name=name,
            uscc=make_code(f"91310117MA7P{number:05d}"),
            legal_representative=legal,
            address=address,
            kind=kind,
            contact_person=contact,
            contact_phone=f"021-5768{number:04d}",
            description="示例服务机构（演示用合成数据）",
            user=officer,
        )
        for service_name, category, price, unit, description in offered:
            catalogue[service_name] = ProviderService.objects.filter(
                provider=provider, name=service_name
            ).first() or services.service_save(
                provider=provider,
                name=service_name,
                category=category,
                unit_price=price,
                unit=unit,
                description=description,
                user=officer,
            )
        providers.append(provider)

    enterprises = _enterprises(10)
    if len(enterprises) < 10:
        report.skipped.append(
            f"示例企业只有 {len(enterprises)} 家（先运行 kechuang demo），未生成申请、创新券和兑付。"
        )
        report.providers, report.services = len(providers), len(catalogue)
        return report
    key, e_self, e_rep, e_addr, e_dup1, e_dup2, e_over, e_burst, e_pending, e_draft = enterprises

    # An enterprise of the registry that is itself a listed provider (a testing company): redeeming its own
    # voucher with itself is the same_uscc flag.
    self_provider = services.provider_save(
        name=e_self.name,
        uscc=e_self.uscc,
        legal_representative=e_self.legal_representative,
        address=e_self.address,
        kind="testing",
        contact_person="质量部",
        enterprise=e_self,
        description="企业库中的企业，同时是在册检测服务机构（示例）",
        user=officer,
    )
    catalogue["企业自有检测服务"] = services.service_save(
        provider=self_provider,
        name="企业自有检测服务",
        category="testing",
        unit_price="5000",
        unit="项",
        user=officer,
    )
    providers.append(self_provider)
    # The provider whose legal representative also heads e_rep, and the one at e_addr's address written another way.
    Provider.objects.filter(pk=providers[4].pk).update(legal_representative=e_rep.legal_representative)
    providers[4].refresh_from_db()
    Provider.objects.filter(pk=providers[6].pk).update(address=_rewritten(e_addr.address))
    providers[6].refresh_from_db()
    report.providers, report.services = len(providers), len(catalogue)

    # Applications: approved ones become vouchers.
    vouchers = {}
    purposes = {
        key: (
            "100000",
            "委托检测新一代 5G 模组的电磁兼容与可靠性，支撑产品认证",
            ["电磁兼容（EMC）检测", "环境可靠性试验"],
        ),
        e_self: ("60000", "委托检测新产品的材料成分", ["企业自有检测服务"]),
        e_rep: ("150000", "委托开发功能纤维配方并做中试", ["新材料配方开发", "中试工艺验证"]),
        e_addr: ("80000", "新产品外观与结构设计、样机制作", ["产品工业设计", "样机快速制造"]),
        e_dup1: ("50000", "零部件检测", ["新能源汽车零部件检测"]),
        e_dup2: ("50000", "集成电路失效分析", ["集成电路失效分析"]),
        e_over: ("150000", "算法模型委托开发", ["算法模型委托开发"]),
        e_burst: ("30000", "材料表征：电镜与核磁", ["扫描电子显微镜机时", "核磁共振波谱机时"]),
    }
    for enterprise, (amount, purpose, wanted) in purposes.items():
        application, user = _apply(scheme, enterprise, amount, purpose, [catalogue[n] for n in wanted])
        services.application_submit(application, user=user)
        vouchers[enterprise.pk] = services.application_approve(
            application, note="示例：材料齐全，同意", user=officer
        )
        report.applications += 1
    # Waiting for the officer: one submitted, one a second application over the year's cap (flagged), a draft.
    application, user = _apply(
        scheme, e_pending, "120000", "委托开展软件产品登记测试与校准", [catalogue["软件产品登记测试"]]
    )
    services.application_submit(application, user=user)
    application, user = _apply(
        scheme, e_over, "100000", "追加：数据标注与评测", [catalogue["数据标注与评测"]]
    )
    services.application_submit(application, user=user)  # 150,000 held + 100,000 > 200,000: over_cap
    _apply(scheme, e_draft, "40000", "激光粒度分析（草稿）", [catalogue["激光粒度分析"]])
    report.applications += 3
    report.vouchers = len(vouchers)

    invoices = _Invoices(today)
    by_name = {p.name: p for p in providers}

    def redeem(enterprise, service_name, invoice_amount, *, invoice_no=None, contract_amount=None, seconds=0):
        service = catalogue[service_name]
        provider = by_name[service.provider.name]
        voucher = vouchers[enterprise.pk]
        report.redemptions += 1
        return redemptions.redeem(
            voucher_number=voucher.number,
            enterprise_uscc=enterprise.uscc,
            provider=provider,
            service=service,
            contract_no=f"FW-{year}-{report.redemptions:04d}",
            contract_amount=contract_amount or invoice_amount,
            invoice_no=invoice_no or invoices.next(),
            invoice_date=today,
            invoice_amount=invoice_amount,
            user=_provider_user(provider),
            now=now + dt.timedelta(seconds=seconds),
        )

    # Clean ones: verified and settled, verified waiting, submitted waiting, and one refused.
    settled = [redeem(key, "电磁兼容（EMC）检测", "16000"), redeem(key, "环境可靠性试验", "7000")]
    for r in settled:
        redemptions.redemption_verify(r, user=officer, note="示例：合同、发票与服务记录一致")
    settlement.settle(
        provider=settled[0].provider,
        period_start=today,
        period_end=today,
        paid_on=today,
        voucher_no=f"记-{year}-0417",
        user=officer,
    )
    report.settlements = 1
    waiting = redeem(e_dup1, "新能源汽车零部件检测", "24000")
    redemptions.redemption_verify(waiting, user=officer, note="示例")
    redeem(e_dup2, "集成电路失效分析", "18000")
    refused = redeem(e_addr, "样机快速制造", "30000", contract_amount="45000")
    # The flags: each on its own redemption or application.
    redeem(e_self, "企业自有检测服务", "10000")  # same_uscc
    redeem(e_rep, "新材料配方开发", "80000")  # same_legal_rep
    redeem(e_addr, "产品工业设计", "40000")  # same_address
    twin = invoices.next()
    redeem(e_dup1, "新能源汽车零部件检测", "12000", invoice_no=twin)
    redeem(
        e_dup2, "电磁兼容（EMC）检测", "12000", invoice_no=twin
    )  # duplicate_invoice: other provider, same amount
    for seconds in (0, 20, 40):  # burst: the third within 72 hours
        redeem(e_burst, "扫描电子显微镜机时", "3000", seconds=seconds)
    redemptions.redemption_refuse(
        refused, reason="示例：发票所列服务与合同不符（样机数量不一致）", user=officer
    )

    from kechuang.vouchers.models import AbuseFlag

    for kind in FlagKind.values:
        report.flags[kind] = AbuseFlag.objects.filter(kind=kind).count()
    missing = [FlagKind(k).label for k, n in report.flags.items() if not n]
    if missing:
        report.skipped.append("未生成的预警：" + "、".join(missing))
    report.provider_account = _provider_account(providers[8])
    return report


def _rewritten(address: str) -> str:
    """The same address as another clerk would type it: full-width digits, spaces, without 上海市."""
    body = address.removeprefix("上海市")
    full = body.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    return full.replace("区", "区 ", 1)


def _provider_account(provider: Provider) -> str:
    """The public demo account `provider` for the shared-instrument platform, where the demo accounts exist."""
    from kechuang.enterprises import demo as registry_demo

    if not registry_demo.demo_accounts_exist():
        return ""
    user, _ = User.objects.get_or_create(username=PROVIDER_ACCOUNT)
    user.first_name = f"示例{roles.PROVIDER.name}"
    user.email = f"{PROVIDER_ACCOUNT}@{registry_demo.DEMO_EMAIL_DOMAIN}"
    user.is_active, user.is_staff, user.is_superuser = True, False, False
    user.set_password(registry_demo.DEMO_PASSWORD)
    user.save()
    user.groups.set([Group.objects.get(name=roles.PROVIDER.name)])
    ProviderMember.objects.filter(user=user).delete()
    ProviderMember.objects.create(user=user, provider=provider)
    return (
        f"示例服务机构账号：{PROVIDER_ACCOUNT} / {registry_demo.DEMO_PASSWORD}（{provider.name}），"
        "可提交兑付、查看本机构的兑付和结算。"
    )
