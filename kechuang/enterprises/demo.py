"""Demo data: the parks and the 20 key enterprises named in the source documents, N synthetic
enterprises around them, and one demo account per role.

Names (parks, key enterprises) are real and cite the document they come from; everything else,
including every figure, date, certificate and patent of the key enterprises, is synthetic: all
enterprises are `is_demo=True` (the UI shows 示例数据) and every synthetic number starts "示例-".

Every rung of the tiers can appear: a share of enterprises has one more, earlier year holding only
销售收入 and 主营业务收入 (the base year of a three-year growth rate: 瞪羚); a few young, fast-growing
ones are financed round after round, some to a valuation above 1亿美元 and a couple above 10亿美元
(独角兽); and the certificates include 科技型中小企业, 创新型中小企业, 专精特新, 小巨人 and 研发机构 of every
level, issued over the last years so that some are expired and some expire within months.

The data is a pure function of (seed, number of enterprises, years, today): one random.Random(seed)
is consumed in a fixed order, so the same arguments on the same day give the same rows; dates follow
today so that certificates stay realistically current, expiring or expired. It is written in batches
(bulk_create for the enterprises, COPY or executemany for their rows) in one transaction, without
history rows: a demo load is not an edit anybody made. 100,000 enterprises take about 40 s.
"""

import itertools
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections, models, router, transaction
from django.utils import timezone

from kechuang.core import roles
from kechuang.core.db import analyze
from kechuang.core.uscc import make_code
from kechuang.enterprises import choices
from kechuang.enterprises.figures import FIGURES
from kechuang.enterprises.models import (
    VALIDITY_YEARS,
    Enterprise,
    EnterpriseYear,
    IPAsset,
    Membership,
    Park,
    Qualification,
    default_expiry,
)

DEFAULT_ENTERPRISES = 2000
DEFAULT_SEED = 20260101
DEFAULT_YEARS = 3
MAX_ENTERPRISES = 999_999  # the serial is six digits of the synthetic USCC
BATCH_SIZE = 2000  # enterprises generated and written per round (their years, IP and certificates with them)
EARLIER_YEAR_SHARE = 0.5  # enterprises with one more, earlier year of sales (a three-year growth base)
FAST_GROWER_SHARE = (
    0.08  # of the tech enterprises up to 9 years old with a growth base year: financed round after round
)
# Every n-th fast grower is valued above 10亿美元 (独角兽, about 72亿元) or above 1亿美元 (about 7.2亿元):
# a fixed rhythm, so that every population of a few hundred enterprises has some of each.
UNICORN_EVERY, HUNDRED_MILLION_USD_EVERY = 16, 3

EMPTY_YEAR = dict.fromkeys(f.name for f in FIGURES)  # an EnterpriseYear row with no figure reported

DEMO_PASSWORD = "kechuang-demo"  # public, for demo only
DEMO_EMAIL_DOMAIN = "demo.invalid"  # RFC 2606: marks the demo accounts

SEED_004 = "沪松府〔2025〕80号《张江高新区松江园改革创新发展行动方案（2025-2026年）》"
SEED_000 = "沪松府〔2026〕67号《松江区新质生产力发展先行区建设“十五五”规划》"


# ---------------------------------------------------------------------------------------------
# Reference data from the documents


@dataclass(frozen=True)
class ParkSeed:
    name: str
    kind: str
    parent: str | None
    source: str
    short_name: str = ""


ZONE = "张江高新区松江园"
OPERATOR_PARK = "临港松江科技园"

PARKS: tuple[ParkSeed, ...] = (
    ParkSeed(
        ZONE,
        choices.ParkKind.HIGH_TECH_ZONE,
        None,
        f"{SEED_004}，标题（004_b3a790c432d546a9.txt 第18行）",
        "松江园",
    ),
    ParkSeed(
        OPERATOR_PARK,
        choices.ParkKind.SUB_PARK,
        ZONE,
        f"{SEED_004} 三(四)10“依托临港松江科技园政务服务大厅”（004_b3a790c432d546a9.txt 第291行；附件5 第561行）",
    ),
    ParkSeed(
        "G60脑智科创基地",
        choices.ParkKind.SUB_PARK,
        ZONE,
        f"{SEED_004} 三(一)3“明确 G60脑智科创基地的四至范围”（004_b3a790c432d546a9.txt 第148行）",
    ),
    ParkSeed(
        "洞泾智能机器人产业基地",
        choices.ParkKind.SUB_PARK,
        ZONE,
        f"{SEED_004} 三(一)3“适当扩大洞泾智能机器人产业基地范围”（004_b3a790c432d546a9.txt 第148–150行）",
    ),
    ParkSeed(
        "松江6G未来通信产业园",
        choices.ParkKind.SUB_PARK,
        ZONE,
        f"{SEED_004} 三(二)7“建设松江 6G未来通信产业园”（004_b3a790c432d546a9.txt 第223行）",
    ),
    ParkSeed(
        "G60生物医药产业基地",
        choices.ParkKind.SUB_PARK,
        ZONE,
        f"{SEED_000} “一核多域”空间格局的产业空间“G60 生物医药产业基地”（000_6dca2b4127d75a15.txt 第213行）",
    ),
    ParkSeed(
        "东华大学国家大学科技园",
        choices.ParkKind.CARRIER,
        None,
        f"{SEED_000} 一(一)1“东华大学国家大学科技园概念验证成果转化中心”（000_6dca2b4127d75a15.txt 第27行）",
    ),
)


@dataclass(frozen=True)
class KeyEnterprise:
    number: int  # 序号 in 附件4
    name: str  # exactly as printed in 附件4
    short_name: str  # as the action plan's text calls it where it does (004 第155–231行)
    domain: str  # 所属领域
    direction: str  # 重点培育方向
    line: int  # line of 004_b3a790c432d546a9.txt where the row starts


# 附件4 重点培育企业清单 of 沪松府〔2025〕80号, 004_b3a790c432d546a9.txt lines 749–801.
KEY_ENTERPRISES: tuple[KeyEnterprise, ...] = (
    KeyEnterprise(1, "上海移远通信技术股份有限公司", "移远通信", "电子信息制造", "“链主”型企业", 759),
    KeyEnterprise(2, "上海宏力达信息技术股份有限公司", "宏力达信息", "电子信息制造", "核心骨干企业", 761),
    KeyEnterprise(3, "上海三旺奇通信息科技有限公司", "三旺奇通", "电子信息制造", "核心骨干企业", 763),
    KeyEnterprise(
        4, "豪威半导体（上海）有限责任公司", "豪威半导体", "电子信息制造", "拥有关键核心技术企业", 765
    ),
    KeyEnterprise(5, "上海垣信卫星科技有限公司", "垣信卫星", "电子信息服务", "“链主”型企业", 767),
    KeyEnterprise(
        6, "创远信科(上海)技术股份有限公司", "创远信科", "电子信息服务", "拥有关键核心技术企业", 769
    ),
    KeyEnterprise(
        7, "云汉芯城（上海）互联网科技股份有限公司", "云汉芯城", "电子信息服务", "“链主”型企业", 771
    ),
    KeyEnterprise(8, "上海昊海生物科技有限公司", "昊海生科", "生命健康制造", "“链主”型企业", 777),
    KeyEnterprise(9, "上海形状记忆合金材料有限公司", "形状记忆", "生命健康制造", "核心骨干企业", 779),
    KeyEnterprise(10, "上海乐纯生物技术股份有限公司", "乐纯生物", "生命健康制造", "核心骨干企业", 781),
    KeyEnterprise(11, "上海睿钰生物科技有限公司", "睿钰生物", "生命健康制造", "核心骨干企业", 783),
    KeyEnterprise(12, "上海邦邦机器人有限公司", "邦邦机器人", "生命健康制造", "拥有关键核心技术企业", 785),
    KeyEnterprise(
        13, "华道（上海）生物医药有限公司", "华道生物", "生命健康制造", "拥有关键核心技术企业", 787
    ),
    KeyEnterprise(14, "上海汇禾医疗科技股份有限公司", "汇禾医疗", "生命健康制造", "引领带动明显企业", 789),
    KeyEnterprise(15, "上海明品医学数据科技有限公司", "明品医学", "生命健康服务", "引领带动明显企业", 791),
    KeyEnterprise(16, "上海曼恒数字技术股份有限公司", "曼恒数字", "智能终端", "拥有关键核心技术企业", 793),
    KeyEnterprise(17, "卡奥斯数字科技（上海）有限公司", "卡奥斯数字科技", "智能终端", "“链主”型企业", 795),
    KeyEnterprise(18, "上海飞科电器股份有限公司", "飞科", "智能终端", "核心骨干企业", 797),
    KeyEnterprise(19, "上海华诚金锐信息技术有限公司", "华诚金锐", "智能终端", "核心骨干企业", 799),
    KeyEnterprise(20, "上海英众信息科技有限公司", "英众信息", "智能终端", "引领带动明显企业", 801),
)
KEY_ENTERPRISE_USER = KEY_ENTERPRISES[0].name  # the demo enterprise user acts for 移远通信

# 所属领域 → (GB/T 4754 门类, 国家重点支持的高新技术领域): manufacturing is C; electronic-information
# services are I (信息传输、软件和信息技术服务业); life-health services are M (科学研究和技术服务业);
# 智能终端 are manufactured terminals (C) of the 电子信息 field.
DOMAINS: dict[str, tuple[str, str]] = {
    "电子信息制造": (choices.Industry.C, choices.HitechField.ELECTRONIC_INFORMATION),
    "电子信息服务": (choices.Industry.I, choices.HitechField.ELECTRONIC_INFORMATION),
    "生命健康制造": (choices.Industry.C, choices.HitechField.BIO_MEDICINE),
    "生命健康服务": (choices.Industry.M, choices.HitechField.BIO_MEDICINE),
    "智能终端": (choices.Industry.C, choices.HitechField.ELECTRONIC_INFORMATION),
}
# Synthetic scale by 重点培育方向: median 销售收入 in yuan of the last year, and its spread.
KEY_SCALE = {
    "“链主”型企业": (2.0e9, 0.5),
    "核心骨干企业": (5.0e8, 0.5),
    "拥有关键核心技术企业": (2.5e8, 0.5),
    "引领带动明显企业": (3.0e8, 0.5),
}


# ---------------------------------------------------------------------------------------------
# Vocabulary of the synthetic enterprises


@dataclass(frozen=True)
class Profile:
    """A kind of enterprise: its industry section, high-tech field, name words and business."""

    weight: int
    industry: str
    field: str  # "" = not a high-tech field
    words: tuple[str, ...]
    businesses: tuple[str, ...]
    parks: tuple[str, ...] = ()  # parks this kind clusters in
    revenue_per_employee: float = 9e5


IT, C, M = choices.Industry.I, choices.Industry.C, choices.Industry.M
HF = choices.HitechField
PROFILES: tuple[Profile, ...] = (
    Profile(
        13,
        C,
        HF.ELECTRONIC_INFORMATION,
        ("电子科技", "微电子", "光电科技", "通信设备", "半导体科技"),
        (
            "通信模组研发与制造",
            "集成电路封装测试",
            "光电器件研发与生产",
            "电子元器件制造",
            "传感器研发与制造",
            "射频微波器件制造",
        ),
        ("松江6G未来通信产业园", OPERATOR_PARK),
        1.0e6,
    ),
    Profile(
        15,
        C,
        HF.ADVANCED_MANUFACTURING,
        ("智能装备", "精密机械", "自动化设备", "机器人科技", "机电设备"),
        (
            "工业机器人研发与制造",
            "智能制造装备研发与制造",
            "精密零部件加工",
            "自动化生产线集成",
            "数控设备制造",
        ),
        ("洞泾智能机器人产业基地", OPERATOR_PARK),
        8.5e5,
    ),
    Profile(
        7,
        C,
        HF.NEW_MATERIALS,
        ("新材料", "材料科技", "高分子材料"),
        ("高性能纤维材料研发与生产", "电子化学品研发与生产", "特种合金材料制造", "高分子复合材料制造"),
        (OPERATOR_PARK,),
        1.1e6,
    ),
    Profile(
        7,
        C,
        HF.BIO_MEDICINE,
        ("生物医药", "医疗器械", "医疗科技", "药业"),
        ("医疗器械研发与制造", "创新药研发与生产", "体外诊断试剂研发与生产", "康复器械研发与制造"),
        ("G60生物医药产业基地", "G60脑智科创基地"),
        9.0e5,
    ),
    Profile(
        5,
        C,
        HF.NEW_ENERGY,
        ("新能源科技", "电气", "能源科技"),
        ("储能系统研发与制造", "光伏逆变器研发与制造", "智能电网设备制造", "节能设备制造"),
        (OPERATOR_PARK,),
        1.2e6,
    ),
    Profile(
        2,
        C,
        HF.RESOURCES_ENVIRONMENT,
        ("环保设备", "环境工程"),
        ("水处理设备制造", "废气治理设备制造"),
        (),
        9.0e5,
    ),
    Profile(
        1,
        C,
        HF.AEROSPACE,
        ("航空科技", "航天科技"),
        ("卫星零部件研发与制造", "航空零部件制造"),
        ("松江6G未来通信产业园",),
        1.0e6,
    ),
    Profile(
        18,
        IT,
        HF.ELECTRONIC_INFORMATION,
        ("信息科技", "网络科技", "软件", "数据科技", "智能科技", "数字科技"),
        (
            "工业软件开发",
            "信息系统集成服务",
            "数据处理与云计算服务",
            "人工智能应用软件开发",
            "物联网平台开发",
            "网络安全服务",
        ),
        ("东华大学国家大学科技园", OPERATOR_PARK),
        6.0e5,
    ),
    Profile(
        8,
        M,
        HF.HIGH_TECH_SERVICES,
        ("检测技术", "工程技术", "科技服务", "技术服务"),
        ("检验检测服务", "工业设计服务", "技术转移服务", "研发外包服务"),
        ("东华大学国家大学科技园",),
        5.0e5,
    ),
    Profile(
        5,
        M,
        HF.BIO_MEDICINE,
        ("生物科技", "医药科技", "生物技术"),
        ("医药研发外包服务", "细胞治疗技术研发", "基因检测服务"),
        ("G60生物医药产业基地", "G60脑智科创基地"),
        6.0e5,
    ),
    Profile(
        2,
        M,
        HF.RESOURCES_ENVIRONMENT,
        ("环保科技", "环境技术"),
        ("环境监测服务", "固废处理技术服务"),
        (),
        6.0e5,
    ),
    Profile(
        1,
        choices.Industry.R,
        HF.HIGH_TECH_SERVICES,
        ("文化传媒", "影视科技"),
        ("影视后期制作", "数字内容制作"),
        (),
        5.0e5,
    ),
    Profile(
        4,
        choices.Industry.F,
        "",
        ("贸易", "供应链管理", "实业"),
        ("电子产品批发", "工业品贸易", "医疗器械销售"),
        (),
        3.0e6,
    ),
    Profile(
        3, choices.Industry.L, "", ("企业管理咨询", "商务咨询"), ("企业管理咨询", "园区运营管理"), (), 4.0e5
    ),
    Profile(2, choices.Industry.E, "", ("建设工程", "建筑科技"), ("建筑工程施工", "机电安装工程"), (), 1.2e6),
    Profile(1, choices.Industry.G, "", ("物流", "仓储"), ("仓储物流服务", "供应链物流"), (), 1.0e6),
    Profile(
        1,
        choices.Industry.D,
        HF.NEW_ENERGY,
        ("能源发展", "电力科技"),
        ("分布式光伏发电", "综合能源服务"),
        (),
        2.0e6,
    ),
)
PROFILE_CUM_WEIGHTS = list(itertools.accumulate(p.weight for p in PROFILES))
ACQUISITIONS = tuple(str(a) for a in choices.IPAcquisition)  # 自主研发 / 受让 / 受赠 / 并购
ACQUISITION_CUM_WEIGHTS = list(itertools.accumulate((90, 8, 1, 1)))

BRAND_CHARS = (
    "瑞华泰宏鑫达盛源恒信通联创智博睿航星辰海宇晶芯微明光远新和丰嘉禾益康健安佳优卓越精锐捷迅弘毅德诚正元启朗润泽澜峰"
    "岳川林森彤曜昊晟煜炜琪璟瑜琦麒骏腾飞翔鹏锦绣云霖雨青蓝金铭钧钛汇聚融合众凯旭晨曦阳昕朔拓展立衡鼎尚品致道沃淳澄清"
    "湛映望宁逸乐欣悦乾坤同长久永恩思维中天赛勤谱图灵颐祥麟凌翼沛兆谦奕"
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈任姚卢钟姜崔谭陆范金石"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志成俊峰文斌浩宇晨阳欣怡子涵梓轩嘉琪思远佳慧"
TOWNS = (
    "岳阳街道",
    "永丰街道",
    "方松街道",
    "中山街道",
    "广富林街道",
    "九里亭街道",
    "泗泾镇",
    "佘山镇",
    "车墩镇",
    "新桥镇",
    "洞泾镇",
    "九亭镇",
    "泖港镇",
    "石湖荡镇",
    "新浜镇",
    "叶榭镇",
    "小昆山镇",
)
# Park of a synthetic enterprise when its profile does not pick one; None = outside the parks.
PARK_WEIGHTS: tuple[tuple[str | None, int], ...] = (
    (OPERATOR_PARK, 24),
    (ZONE, 12),
    ("G60脑智科创基地", 6),
    ("洞泾智能机器人产业基地", 8),
    ("松江6G未来通信产业园", 5),
    ("G60生物医药产业基地", 6),
    ("东华大学国家大学科技园", 5),
    (None, 34),
)

# 研发机构 levels with who recognises them: 国家企业技术中心 by 国家发展改革委 with four other departments,
# 市级 by 上海市经济和信息化委员会; the district's office is left unnamed.
RD_LEVELS = (
    choices.QualificationLevel.NATIONAL,
    choices.QualificationLevel.MUNICIPAL,
    choices.QualificationLevel.DISTRICT,
)
RD_ISSUERS = {
    choices.QualificationLevel.NATIONAL: "国家发展和改革委员会等五部门",
    choices.QualificationLevel.MUNICIPAL: "上海市经济和信息化委员会",
    choices.QualificationLevel.DISTRICT: "",
}

IP_SUBJECTS = {
    HF.ELECTRONIC_INFORMATION: (
        "通信模组",
        "射频前端电路",
        "物联网网关",
        "图像传感器",
        "嵌入式控制器",
        "数据采集终端",
        "边缘计算设备",
        "天线组件",
    ),
    HF.BIO_MEDICINE: (
        "介入导管",
        "体外诊断试剂盒",
        "细胞培养装置",
        "药物缓释制剂",
        "医用敷料",
        "康复训练装置",
        "植入器械",
    ),
    HF.AEROSPACE: ("星载天线", "姿态控制组件", "复合材料舱段", "航空紧固件"),
    HF.NEW_MATERIALS: ("高分子复合材料", "阻燃纤维", "耐高温涂层", "形状记忆合金丝", "导热界面材料"),
    HF.HIGH_TECH_SERVICES: ("检测数据平台", "工业设计流程", "技术服务管理系统", "仿真分析平台"),
    HF.NEW_ENERGY: ("储能电池管理系统", "逆变器", "光伏支架", "节能电机控制器"),
    HF.RESOURCES_ENVIRONMENT: ("污水处理装置", "废气净化设备", "固废分选系统", "在线监测仪"),
    HF.ADVANCED_MANUFACTURING: (
        "机械臂关节",
        "自动化装配线",
        "精密夹具",
        "视觉检测设备",
        "数控转台",
        "协作机器人",
    ),
    "": ("管理系统", "业务平台"),
}


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass
class Summary:
    parks: int = 0
    enterprises: int = 0
    key_enterprises: int = 0
    years: int = 0
    ip_assets: int = 0
    qualifications: int = 0
    seconds: float = 0.0
    skipped: bool = False
    existing: int = 0
    deleted: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        if self.skipped:
            return (
                f"示例数据已存在（{self.existing:,} 家示例企业），未重复生成；园区已核对（{self.parks} 个）。"
                "如需重新生成请加 --reset。"
            )
        lines = []
        if self.deleted:
            lines.append(
                "已删除原有示例数据：企业 {enterprises:,} 家，年度数据 {years:,} 行，知识产权 {ip_assets:,} 件，资质 {qualifications:,} 项。".format(
                    **self.deleted
                )
            )
        lines.append(
            f"已生成示例数据（is_demo，页面标“示例数据”）：园区 {self.parks} 个；企业 {self.enterprises:,} 家"
            f"（其中附件4重点培育企业 {self.key_enterprises} 家，数据均为合成）；年度数据 {self.years:,} 行；"
            f"知识产权 {self.ip_assets:,} 件；资质 {self.qualifications:,} 项；用时 {self.seconds:.1f} 秒。"
        )
        return "\n".join(lines)


def D(value: float) -> Decimal:
    """Money in yuan, rounded to 100 yuan (reports are in 万元 with two decimals)."""
    return Decimal(int(round(value / 100)) * 100)


def _gb11714_check(body: str) -> str:
    """The check character of the 9-character organisation code (GB 11714) inside a USCC."""
    total = sum(int(c, 36) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    c = 11 - total % 11
    return "X" if c == 10 else ("0" if c == 11 else str(c))


def demo_uscc(serial: int, key: bool = False) -> str:
    """A valid, visibly synthetic code: 91 (enterprise) + 310117 (松江区) + an organisation code
    "DK…"/"DM…" (demo key / demo) with its own check + the GB 32100 check character."""
    body = ("DK" if key else "DM") + f"{serial:06d}"
    return make_code("91310117" + body + _gb11714_check(body))


class _Generator:
    def __init__(self, rng: random.Random, today: date, year_count: int, parks: dict[str, Park]):
        self.rng = rng
        self.today = today
        self.years = list(range(today.year - year_count, today.year))  # complete years only
        self.last_year = self.years[-1]
        self.parks = parks
        self.park_names = [name for name, _ in PARK_WEIGHTS]
        self.park_cum_weights = list(itertools.accumulate(w for _, w in PARK_WEIGHTS))
        self.names: set[str] = set()
        self.ip_serial = 0
        self.cert_serial = 0
        self.fast_growers = 0

    # -- enterprise ---------------------------------------------------------------------------

    def company_name(self, profile: Profile) -> tuple[str, str]:
        rng = self.rng
        for attempt in range(1000):
            brand = rng.choice(BRAND_CHARS) + rng.choice(BRAND_CHARS)
            if attempt > 50:  # the two-character space is crowded: take a third character
                brand += rng.choice(BRAND_CHARS)
            if brand[0] == brand[1]:
                continue
            word = rng.choice(profile.words)
            form = rng.random()
            if form < 0.80:
                name = f"上海{brand}{word}有限公司"
            elif form < 0.90:
                name = f"{brand}（上海）{word}有限公司"
            else:
                name = f"上海{brand}{word}股份有限公司"
            if name not in self.names:
                self.names.add(name)
                return name, brand + word[:2]
        raise RuntimeError("无法生成不重复的企业名称")

    def registration_date(self) -> date:
        rng = self.rng
        latest = min(date(2025, 12, 31), self.today - timedelta(days=30))
        year = min(int(rng.triangular(1995, latest.year + 1, 2023)), latest.year)
        start = date(year, 1, 1)
        end = min(date(year, 12, 31), latest)
        return start + timedelta(days=rng.randrange((end - start).days + 1))

    def park_for(self, profile: Profile) -> Park | None:
        rng = self.rng
        if profile.parks and rng.random() < 0.45:
            name = rng.choice(profile.parks)
        else:
            name = rng.choices(self.park_names, cum_weights=self.park_cum_weights)[0]
        return self.parks.get(name) if name else None

    def person(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))

    # -- one enterprise with everything ---------------------------------------------------------

    def synthetic(self, serial: int) -> tuple[Enterprise, list, list, list]:
        rng = self.rng
        profile = rng.choices(PROFILES, cum_weights=PROFILE_CUM_WEIGHTS)[0]
        name, short_name = self.company_name(profile)
        registered = self.registration_date()
        revenue = math.exp(rng.gauss(math.log(2.0e7), 1.25))
        age = (self.today - registered).days / 365.25
        if age < 3:  # young companies are smaller
            revenue *= 0.15 + 0.28 * age
        revenue = min(revenue, 8.0e9)
        stage = None
        if (
            profile.field
            and age <= 9
            and registered.year < self.years[0]
            and rng.random() < FAST_GROWER_SHARE
        ):
            stage = self.growth_stage()
            revenue = math.exp(rng.gauss(math.log(1.2e8), 0.7))
        status = rng.choices(
            (
                choices.EnterpriseStatus.ACTIVE,
                choices.EnterpriseStatus.MOVED_OUT,
                choices.EnterpriseStatus.DEREGISTERED,
            ),
            (96, 3, 1),
        )[0]
        if stage:  # a fast grower is in business and reports every year
            status = choices.EnterpriseStatus.ACTIVE
        enterprise = Enterprise(
            uscc=demo_uscc(serial),
            name=name,
            short_name=short_name,
            registration_date=registered,
            park=self.park_for(profile),
            industry=profile.industry,
            hitech_field=profile.field,
            main_business=rng.choice(profile.businesses),
            address=f"上海市松江区{rng.choice(TOWNS)}示例路{rng.randrange(1, 2000)}号",
            legal_representative=self.person(),
            # 021-0…: no Shanghai landline starts with 0, so this never dials a real number.
            contact_phone=f"021-0{rng.randrange(10**7):07d}" if rng.random() < 0.85 else "",
            status=status,
            is_listed=stage is None and revenue > 5e8 and rng.random() < 0.3,
            is_demo=True,
        )
        return self.fill(enterprise, profile, revenue, hnte_bias=1.0, stage=stage)

    def growth_stage(self) -> str:
        """The valuation a fast grower reaches: 独角兽 (above 10亿美元), above 1亿美元, or less."""
        self.fast_growers += 1
        if self.fast_growers % UNICORN_EVERY == UNICORN_EVERY // 2:
            return "unicorn"
        return "usd_100m" if self.fast_growers % HUNDRED_MILLION_USD_EVERY == 1 else "venture"

    def key(self, key: KeyEnterprise, zone: Park) -> tuple[Enterprise, list, list, list]:
        rng = self.rng
        industry, hitech_field = DOMAINS[key.domain]
        profile = next(p for p in PROFILES if p.industry == industry and p.field == hitech_field)
        median, sigma = KEY_SCALE[key.direction]
        revenue = math.exp(rng.gauss(math.log(median), sigma))
        enterprise = Enterprise(
            uscc=demo_uscc(key.number, key=True),
            name=key.name,
            short_name=key.short_name,
            registration_date=None,  # a real company's date is a fact we do not have: left unknown
            park=zone,  # 附件4 lists them as key enterprises of 张江高新区松江园
            industry=industry,
            hitech_field=hitech_field,
            main_business=f"{key.domain} · {key.direction}（附件4）",
            is_demo=True,
        )
        return self.fill(enterprise, profile, revenue, hnte_bias=10.0)

    def fill(
        self,
        enterprise: Enterprise,
        profile: Profile,
        revenue: float,
        hnte_bias: float,
        stage: str | None = None,
    ):
        rng = self.rng
        registered = enterprise.registration_date
        hnte_dates = self.hnte_issue_dates(registered, profile, revenue, hnte_bias)
        hnte = bool(hnte_dates)
        years = self.year_rows(enterprise, profile, revenue, hnte, registered, stage)
        if stage:
            self.financing_rounds(years, revenue, stage)
        last = years[-1] if years and years[-1]["year"] == self.last_year else None
        qualifications = self.qualifications(enterprise, profile, hnte_dates, last, registered)
        kinds = {q["kind"] for q in qualifications}
        min_invention = (
            4
            if choices.QualificationKind.LITTLE_GIANT in kinds
            else (1 if hnte and rng.random() < 0.6 else 0)
        )
        min_class_ii = 3 if hnte and not min_invention else 0
        ip_assets = self.ip_assets(
            enterprise, profile, revenue, registered, hnte_dates, min_invention, min_class_ii
        )
        return enterprise, years, qualifications, ip_assets

    # -- figures --------------------------------------------------------------------------------

    def year_rows(
        self,
        enterprise,
        profile: Profile,
        revenue: float,
        hnte: bool,
        registered: date | None,
        stage: str | None = None,
    ) -> list[dict]:
        rng = self.rng
        tech = bool(profile.field)
        # Ratios that belong to the enterprise; each year jitters around them.
        rpe = profile.revenue_per_employee * math.exp(rng.gauss(0, 0.35))
        if hnte:
            tech_share = rng.uniform(0.15, 0.60)
        elif tech:
            tech_share = rng.uniform(0.05, 0.45)
        else:
            tech_share = rng.uniform(0.05, 0.12)
        rd_share_of_tech = rng.uniform(0.45, 1.0)
        if tech:  # most spend a few per cent of sales on R&D, a few much more (capped at 15%)
            rd_ratio = min(0.15, rng.expovariate(1 / 0.035))
        else:
            rd_ratio = rng.uniform(0.0, 0.01)
        # 国科发火〔2016〕32号 第十一条(五): 5% / 4% / 3% of 销售收入 by size; kept every year, with margin.
        hnte_floor = 0.05 if revenue <= 5e7 else (0.04 if revenue <= 2e8 else 0.03)
        domestic_share = 1.0 if rng.random() < 0.6 else rng.uniform(0.6, 0.99)
        hitech_share = rng.uniform(0.62, 0.95) if hnte else (rng.uniform(0.0, 0.8) if tech else None)
        margin = max(-0.5, min(0.35, rng.gauss(0.07, 0.09)))
        asset_turnover = math.exp(rng.gauss(math.log(1.1), 0.5))
        equity_ratio = max(-0.4, min(0.9, rng.gauss(0.45, 0.22)))
        exporter = profile.industry == choices.Industry.C and rng.random() < 0.35
        export_share = rng.uniform(0.02, 0.5) if exporter else 0.0
        tax_rate = rng.uniform(0.01, 0.06)
        financed = tech and not stage and rng.random() < 0.06
        # 新增股权融资 reported as 0 in the years without a round: by the financed, the fast growers and
        # some others; the rest leave it empty (not known, not 0).
        reports_equity = financed or bool(stage) or (tech and rng.random() < 0.3)
        growth = rng.gauss(
            0.08 + (0.15 if registered and registered.year >= self.last_year - 5 else 0.0), 0.15
        )
        if stage:
            growth = rng.uniform(0.3, 0.8)
        missing_last = (
            not stage and rng.random() < 0.03 and enterprise.status == choices.EnterpriseStatus.ACTIVE
        )

        rows = []
        scale = revenue
        for year in reversed(self.years):  # from the last year backwards
            if registered and registered.year > year:
                break
            if not (missing_last and year == self.last_year):
                rows.append(
                    self.one_year(
                        enterprise,
                        year,
                        scale * self.months_active(registered, year),
                        rpe,
                        tech_share,
                        rd_share_of_tech,
                        rd_ratio,
                        domestic_share,
                        hitech_share,
                        margin,
                        asset_turnover,
                        equity_ratio,
                        export_share,
                        tax_rate,
                        financed,
                        reports_equity,
                        hnte_floor if hnte else None,
                    )
                )
            scale /= 1 + max(-0.35, min(1.0, growth + rng.gauss(0, 0.08)))
        else:  # every year generated: one more, earlier year of sales for some
            earlier = self.years[0] - 1
            if (stage or rng.random() < EARLIER_YEAR_SHARE) and (
                registered is None or registered.year <= earlier
            ):
                sales = max(scale * self.months_active(registered, earlier), 5e4)
                rows.append(
                    EMPTY_YEAR
                    | {
                        "enterprise": enterprise,
                        "year": earlier,
                        "sales_revenue": D(sales),
                        "main_business_revenue": D(sales * rng.uniform(0.85, 1.0)),
                    }
                )
        rows.reverse()
        return rows

    def financing_rounds(self, rows: list[dict], revenue: float, stage: str) -> None:
        """A fast grower's rounds: in some of its years (always at least one), each at a higher post-money
        valuation, the last at its stage's; 估值 carries the latest round's, 新增股权融资 is 0 between rounds."""
        rng = self.rng
        years = [row for row in rows if row["employees"] is not None]  # not the sales-only earlier year
        if not years:
            return
        rounds = [row for row in years if rng.random() < 0.55] or [years[-1]]
        if stage == "unicorn":
            valuation = rng.uniform(8e9, 3e10)  # above 10亿美元 at any rate of 7–8 yuan
        elif stage == "usd_100m":
            valuation = rng.uniform(8e8, 5e9)  # above 1亿美元; some above 5亿美元
        else:
            valuation = min(6.5e8, revenue * rng.uniform(2, 6))
        post_money = {}
        for row in reversed(rounds):
            post_money[row["year"]] = valuation
            valuation /= rng.uniform(1.8, 3.0)
        latest = None
        for row in years:
            if row["year"] in post_money:
                latest = post_money[row["year"]]
                row["equity_financing"] = D(latest * rng.uniform(0.08, 0.2))
            row["valuation"] = None if latest is None else D(latest)

    def months_active(self, registered: date | None, year: int) -> float:
        if registered is None or registered.year < year:
            return 1.0
        return max(1, 12 - registered.month + 1) / 12

    def one_year(
        self,
        enterprise,
        year,
        sales,
        rpe,
        tech_share,
        rd_share_of_tech,
        rd_ratio,
        domestic_share,
        hitech_share,
        margin,
        asset_turnover,
        equity_ratio,
        export_share,
        tax_rate,
        financed,
        reports_equity,
        hnte_floor,
    ) -> dict:
        rng = self.rng
        jitter = rng.uniform
        hnte = hnte_floor is not None
        sales = max(sales, 5e4)
        employees = max(3, min(40000, round(sales / rpe * jitter(0.9, 1.1))))
        tech_staff = max(
            1, min(employees, round(employees * min(0.6, max(0.05, tech_share * jitter(0.9, 1.1)))))
        )
        if hnte:
            tech_staff = max(tech_staff, math.ceil(employees * 0.1))
        rd_staff = min(tech_staff, round(tech_staff * rd_share_of_tech))
        if hnte:
            floor = max(hnte_floor, 0.05 if sales <= 5e7 else (0.04 if sales <= 2e8 else 0.03))
            ratio = rng.uniform(floor + 0.003, min(0.15, floor * 2.5))
        else:
            ratio = min(0.15, rd_ratio * jitter(0.85, 1.15))
        sales_d = D(sales)
        rd = D(sales * ratio)
        main = min(sales_d, D(sales * jitter(0.85, 1.0)))
        income = sales * jitter(1.0, 1.06)
        total_income = D(income)
        profit = sales * max(-0.6, min(0.4, margin + rng.gauss(0, 0.03)))
        net_profit = profit * (0.85 if hnte else 0.75) if profit > 0 else profit
        assets = sales * asset_turnover * jitter(0.95, 1.05)
        row = {  # an EnterpriseYear
            "enterprise": enterprise,
            "year": year,
            "employees": Decimal(employees),
            "tech_staff": Decimal(tech_staff),
            "rd_staff": Decimal(rd_staff),
            "sales_revenue": sales_d,
            "main_business_revenue": main,
            "total_income": total_income,
            "hitech_revenue": None
            if hitech_share is None
            else min(total_income, D(income * hitech_share * jitter(0.97, 1.03))),
            "rd_expense_hnte": rd,
            "rd_expense_hnte_domestic": min(rd, D(sales * ratio * domestic_share)),
            "rd_expense_deduction": D(sales * ratio * jitter(0.85, 1.05)),
            # 会计口径: what the accounts show, a little above the 加计扣除 basis as a rule.
            "rd_expense": D(sales * ratio * jitter(0.95, 1.12)),
            "cost_expense_total": D(max(0.0, sales - profit)),
            "total_assets": D(assets),
            "net_assets": D(assets * equity_ratio),
            "total_profit": D(profit),
            "net_profit": D(net_profit),
            "tax_paid": D(sales * tax_rate),
            "export_revenue": D(sales * export_share * jitter(0.8, 1.2)) if export_share else Decimal(0),
            "equity_financing": Decimal(0) if reports_equity else None,
            "valuation": None,
        }
        if financed and rng.random() < 0.5:
            amount = math.exp(rng.gauss(math.log(3e7), 0.9))
            row["equity_financing"] = D(amount)
            row["valuation"] = D(amount / rng.uniform(0.08, 0.25))
        # Not every figure is reported: missing is NULL, never 0.
        for name, p in (
            ("rd_staff", 0.06),
            ("rd_expense_deduction", 0.10),
            ("rd_expense", 0.04),
            ("cost_expense_total", 0.05),
            ("tax_paid", 0.04),
            ("export_revenue", 0.15),
            ("total_income", 0.03),
            ("net_assets", 0.02),
        ):
            if rng.random() < p:
                row[name] = None
        if not hnte and row["hitech_revenue"] is not None and rng.random() < 0.08:
            row["hitech_revenue"] = None
        return row

    # -- certificates ---------------------------------------------------------------------------

    def batch_date(self, year: int, first: tuple[int, int], last: tuple[int, int]) -> date | None:
        """A date in [first, last] of the year (month, day), never after today; None if none is possible."""
        start, end = date(year, *first), min(date(year, *last), self.today)
        if end < start:
            return None
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def hnte_issue_dates(
        self, registered: date | None, profile: Profile, revenue: float, bias: float
    ) -> list[date]:
        """Issue dates of the 高新技术企业 certificates: spread over the last four years, so some have
        expired and some expire soon; an expired one is often followed by a re-recognition."""
        rng = self.rng
        if not profile.field:
            return []
        p = min(0.95, 0.27 * bias * (1.4 if revenue > 5e7 else 1.0))
        if rng.random() >= p:
            return []
        offset = rng.choices((4, 3, 2, 1, 0), (14, 26, 26, 24, 10))[0]
        issued = self.batch_date(self.today.year - offset, (10, 1), (12, 20)) or self.batch_date(
            self.today.year - offset - 1, (10, 1), (12, 20)
        )
        if registered and (issued - registered).days < 365:  # 注册成立一年以上
            return []
        dates = [issued]
        expiry = default_expiry(choices.QualificationKind.HNTE, issued)
        if expiry < self.today and rng.random() < 0.6:
            renewed = self.batch_date(expiry.year, (10, 1), (12, 20))
            if renewed and renewed > issued:
                dates.append(renewed)
        return dates

    def certificate_no(self, kind: str, issued: date) -> str:
        self.cert_serial += 1
        if kind == choices.QualificationKind.HNTE:
            return f"示例-GR{issued.year}31{self.cert_serial:06d}"
        return f"示例-{issued.year}-{self.cert_serial:06d}"

    def qualification(
        self, enterprise, kind, level, issuer, issued: date, expiry: date | None = None
    ) -> dict:
        if expiry is None and kind in VALIDITY_YEARS:
            expiry = default_expiry(kind, issued)
        return {  # a Qualification
            "enterprise": enterprise,
            "kind": str(kind),
            "level": str(level),
            "certificate_no": self.certificate_no(kind, issued),
            "issuer": issuer,
            "issue_date": issued,
            "expiry_date": expiry,
        }

    def qualifications(
        self, enterprise, profile: Profile, hnte_dates: list[date], last: dict | None, registered: date | None
    ) -> list[dict]:
        rng = self.rng
        K, L = choices.QualificationKind, choices.QualificationLevel
        out = [
            self.qualification(
                enterprise,
                K.HNTE,
                L.NATIONAL,
                "上海市科学技术委员会、上海市财政局、国家税务总局上海市税务局",
                d,
            )
            for d in hnte_dates
        ]
        if last is None or not profile.field or enterprise.status != choices.EnterpriseStatus.ACTIVE:
            return out
        sales = float(last["sales_revenue"])
        rd = float(
            last["rd_expense"] if last["rd_expense"] is not None else last["rd_expense_hnte"]
        )  # 梯度培育: 会计口径
        assets = float(last["total_assets"])
        employees = last["employees"]
        ratio = rd / sales if sales else 0.0
        old_enough = registered is None or registered.year <= self.last_year - 2

        # 科技型中小企业: ≤500人, 销售收入 ≤2亿, 资产 ≤2亿 (国科发政〔2017〕115号 第六条); 登记编号当年有效.
        if employees <= 500 and sales <= 2e8 and assets <= 2e8 and (hnte_dates or rng.random() < 0.5):
            for year in (self.today.year, self.today.year - 1):
                issued = self.batch_date(year, (4, 1), (9, 30))
                if issued and (year == self.today.year or rng.random() < 0.5):
                    out.append(
                        self.qualification(enterprise, K.TECH_SME, L.NATIONAL, "", issued, date(year, 12, 31))
                    )
        # 创新型中小企业 (3 years).
        if old_enough and ratio >= 0.02 and rng.random() < 0.15:
            issued = self.batch_date(
                rng.choice(range(self.today.year - 3, self.today.year + 1)), (3, 1), (11, 30)
            )
            if issued:
                out.append(
                    self.qualification(
                        enterprise, K.INNOVATIVE_SME, L.MUNICIPAL, "上海市经济和信息化委员会", issued
                    )
                )
        # 专精特新中小企业: 营业收入 ≥1500万, 研发 ≥100万 and ≥3%.
        specialised = None
        if (
            old_enough
            and 1.5e7 <= sales
            and rd >= 1e6
            and ratio >= 0.03
            and employees < 1000
            and rng.random() < 0.35
        ):
            specialised = self.batch_date(
                rng.choice(range(self.today.year - 4, self.today.year + 1)), (1, 10), (12, 20)
            )
            if specialised:
                out.append(
                    self.qualification(
                        enterprise, K.SPECIALISED_SME, L.MUNICIPAL, "上海市经济和信息化委员会", specialised
                    )
                )
        # 专精特新“小巨人”: holds 专精特新, 营业收入 ≥5000万.
        if specialised and sales >= 5e7 and rng.random() < 0.2:
            issued = self.batch_date(
                min(self.today.year, specialised.year + rng.choice((0, 1, 2))), (7, 1), (8, 31)
            )
            if issued and issued > specialised:
                out.append(
                    self.qualification(enterprise, K.LITTLE_GIANT, L.NATIONAL, "工业和信息化部", issued)
                )
        big = sales >= 1e8
        # 上海市科技小巨人（培育）企业: high-tech enterprises of some size.
        if hnte_dates and sales >= 3e7 and rng.random() < (0.10 if big else 0.05):
            kind = K.SH_TECH_GIANT if big else K.SH_TECH_GIANT_CULTIVATION
            issued = self.batch_date(
                rng.choice(range(self.today.year - 6, self.today.year)), (6, 1), (12, 20)
            )
            out.append(self.qualification(enterprise, kind, L.MUNICIPAL, "上海市科学技术委员会", issued))
        # 院士（专家）工作站 and 市级企业技术中心: mostly the larger ones.
        if rng.random() < (0.06 if big and hnte_dates else 0.002):
            issued = self.batch_date(
                rng.choice(range(self.today.year - 8, self.today.year)), (3, 1), (12, 20)
            )
            out.append(
                self.qualification(
                    enterprise, K.ACADEMICIAN_WORKSTATION, L.MUNICIPAL, "上海市科学技术协会", issued
                )
            )
        # 研发机构 (企业技术中心 etc.): 国家级 for a few large ones, 市级 (= 省级) and 区级 for more.
        if sales >= 2e7 and ratio >= 0.02 and rng.random() < (0.25 if big else 0.08):
            level = rng.choices(RD_LEVELS, (3, 5, 2) if sales >= 5e8 else ((1, 5, 4) if big else (0, 3, 7)))[
                0
            ]
            issued = self.batch_date(
                rng.choice(range(self.today.year - 8, self.today.year)), (3, 1), (12, 20)
            )
            if issued:
                out.append(self.qualification(enterprise, K.RD_INSTITUTION, level, RD_ISSUERS[level], issued))
        return out

    # -- intellectual property ------------------------------------------------------------------

    IP_DELAY = {  # days from application to grant/registration
        choices.IPType.INVENTION: (450, 1300),
        choices.IPType.UTILITY_MODEL: (150, 400),
        choices.IPType.DESIGN: (100, 250),
        choices.IPType.SOFTWARE: (20, 100),
        choices.IPType.TRADEMARK: (270, 450),
        choices.IPType.IC_LAYOUT: (60, 180),
    }

    def ip_assets(
        self,
        enterprise,
        profile: Profile,
        revenue: float,
        registered: date | None,
        hnte_dates: list[date],
        min_invention: int,
        min_class_ii: int,
    ) -> list[dict]:
        rng = self.rng
        T = choices.IPType
        size = max(0.0, math.log10(max(revenue, 1e5) / 1e6))  # 0 at 100万, 1 at 1000万, 3 at 10亿
        mean = (0.5 + size + size * size) * (1.0 if profile.field else 0.3) * (1.6 if hnte_dates else 1.0)
        count = min(120, int(rng.gammavariate(2.5, mean / 2.5)))
        weights = {T.INVENTION: 22, T.UTILITY_MODEL: 34, T.SOFTWARE: 24, T.DESIGN: 8, T.TRADEMARK: 10}
        if profile.industry == choices.Industry.I:
            weights.update({T.SOFTWARE: 60, T.UTILITY_MODEL: 8, T.DESIGN: 2})
        if profile.field == HF.ELECTRONIC_INFORMATION and profile.industry == choices.Industry.C:
            weights[T.IC_LAYOUT] = 3
        types = rng.choices(list(weights), list(weights.values()), k=count)
        types += [T.INVENTION] * max(0, min_invention - types.count(T.INVENTION))
        class_ii = sum(1 for t in types if t in choices.CLASS_II_TYPES)
        types += [T.UTILITY_MODEL if profile.industry != choices.Industry.I else T.SOFTWARE] * max(
            0, min_class_ii - class_ii
        )

        earliest = max(registered or date(2008, 1, 1), self.today - timedelta(days=15 * 365))
        first_hnte = hnte_dates[0] if hnte_dates else None
        subjects = IP_SUBJECTS[profile.field]
        out = []
        for ip_type in types:
            span = (self.today - earliest).days
            if first_hnte and ip_type in (T.INVENTION, *choices.CLASS_II_TYPES) and rng.random() < 0.7:
                span = max(
                    1, (first_hnte - timedelta(days=400) - earliest).days
                )  # filed well before the application
            applied = earliest + timedelta(days=rng.randrange(max(1, span)))
            low, high = self.IP_DELAY[ip_type]
            granted = applied + timedelta(days=rng.randint(low, high))
            status = choices.IPStatus.VALID
            if granted > self.today:
                granted, status = None, choices.IPStatus.PENDING
            elif rng.random() < 0.05:
                status = choices.IPStatus.LAPSED
            used = None
            if (
                first_hnte
                and ip_type in choices.CLASS_II_TYPES
                and granted
                and granted < first_hnte
                and status == choices.IPStatus.VALID
                and rng.random() < 0.7
            ):
                used = first_hnte.year  # Ⅱ类 may serve one HNTE application only
            out.append(
                {  # an IPAsset
                    "enterprise": enterprise,
                    "ip_type": str(ip_type),
                    "number": self.ip_number(ip_type, applied, granted),
                    "title": self.ip_title(ip_type, enterprise.short_name, subjects),
                    "application_date": applied,
                    "grant_date": granted,
                    "acquisition": rng.choices(ACQUISITIONS, cum_weights=ACQUISITION_CUM_WEIGHTS)[0],
                    "status": str(status),
                    "hnte_used_year": used,
                }
            )
        return out

    def ip_number(self, ip_type: str, applied: date, granted: date | None) -> str:
        self.ip_serial += 1
        s, T = self.ip_serial, choices.IPType
        digit = {T.INVENTION: 1, T.UTILITY_MODEL: 2, T.DESIGN: 3}.get(ip_type)
        if digit:
            return f"示例-{applied.year}{digit}{s:07d}"
        if ip_type == T.SOFTWARE:
            return f"示例-{(granted or applied).year}SR{s:07d}"
        if ip_type == T.IC_LAYOUT:
            return f"示例-BS.{applied.year % 100:02d}5{s:07d}"
        return f"示例-TM{s:08d}"

    def ip_title(self, ip_type: str, short_name: str, subjects: tuple[str, ...]) -> str:
        rng, T = self.rng, choices.IPType
        subject = rng.choice(subjects)
        if ip_type == T.SOFTWARE:
            return f"{short_name}{subject}{rng.choice(('管理软件', '控制软件', '监测平台', '数据分析系统'))}V{rng.randint(1, 5)}.0"
        if ip_type == T.TRADEMARK:
            return f"{short_name}（第{rng.choice((9, 10, 35, 42))}类）"
        if ip_type == T.DESIGN:
            return f"{subject}（{rng.choice(('外壳', '面板', '控制器', '终端'))}）"
        if ip_type == T.IC_LAYOUT:
            return f"{subject}驱动芯片布图设计"
        if ip_type == T.INVENTION:
            return rng.choice(
                (f"一种{subject}及其制备方法", f"一种基于{subject}的控制方法", f"{subject}的检测方法及系统")
            )
        return rng.choice((f"一种{subject}", f"一种{subject}的安装结构", f"一种便于维护的{subject}"))


# ---------------------------------------------------------------------------------------------
# Loading


def load_parks() -> dict[str, Park]:
    """Creates or updates the parks of the documents (idempotent); returns them by name."""
    parks: dict[str, Park] = {}
    for seed in PARKS:
        park, _ = Park.objects.update_or_create(
            name=seed.name,
            defaults={
                "kind": seed.kind,
                "short_name": seed.short_name,
                "source": seed.source,
                "parent": parks[seed.parent] if seed.parent else None,
            },
        )
        parks[seed.name] = park
    return parks


def demo_count() -> int:
    return Enterprise.objects.filter(is_demo=True).count()


OWN_RELATIONS = {Membership, Qualification, IPAsset, EnterpriseYear}


def _release_demo_enterprises(demo) -> None:
    """Clears what other apps hold on demo enterprises before they go: derived rows (assessments, conflicts,
    period figures) are deleted, optional links emptied. Records a person made about them (applications,
    benefits, vouchers, postings…) are protected: then nothing is deleted and the error counts them."""
    protected, derived, optional = [], [], []
    for relation in Enterprise._meta.related_objects:
        if relation.related_model in OWN_RELATIONS or relation.many_to_many:
            continue
        rows = relation.related_model._default_manager.filter(**{f"{relation.field.name}__in": demo})
        if relation.on_delete is models.PROTECT:
            protected.append((relation.related_model._meta.verbose_name, rows))
        elif relation.on_delete is models.SET_NULL:
            optional.append((relation.field.name, rows))
        else:
            derived.append(rows)
    held = [f"{name} {n:,} 条" for name, rows in protected if (n := rows.count())]
    if held:
        raise ValueError(
            "示例企业已被其他记录引用（" + "、".join(held) + "），--reset 不删除这些记录，企业库示例数据未作改动。"
            "如需全部重来：make clean 后重新 make run。"
        )
    for name, rows in optional:
        rows.update(**{name: None})
    for rows in derived:
        rows.delete()


def delete_demo() -> dict[str, int]:
    """Deletes every demo enterprise with its years, IP, certificates and memberships.

    Raw deletes: the history-tracked models have delete signals, so QuerySet.delete() would load
    every row and write a "deleted" history row for each — minutes and millions of rows for nothing.
    """
    demo = Enterprise.objects.filter(is_demo=True)
    counts = {}
    with transaction.atomic():
        _release_demo_enterprises(demo)
        Membership.objects.filter(enterprise__is_demo=True).delete()
        for key, model in (
            ("qualifications", Qualification),
            ("ip_assets", IPAsset),
            ("years", EnterpriseYear),
        ):
            qs = model.objects.filter(enterprise__is_demo=True)
            counts[key] = qs._raw_delete(qs.db)
        counts["enterprises"] = demo._raw_delete(demo.db)
    return counts


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def load_demo(
    *,
    enterprises: int = DEFAULT_ENTERPRISES,
    seed: int = DEFAULT_SEED,
    years: int = DEFAULT_YEARS,
    reset: bool = False,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
) -> Summary:
    """Loads the parks, the 20 key enterprises and `enterprises` synthetic ones (see the module doc).

    When demo enterprises exist it only checks the parks and returns `skipped`, unless `reset`, which
    deletes them first. Runs in one transaction."""
    if not 0 <= enterprises <= MAX_ENTERPRISES:
        raise ValueError(f"企业数应在 0–{MAX_ENTERPRISES} 之间")
    if not 1 <= years <= 20:
        raise ValueError("年度数应在 1–20 之间")
    started = time.monotonic()
    today = today or timezone.localdate()
    summary = Summary()
    with transaction.atomic():
        parks = load_parks()
        summary.parks = len(parks)
        existing = demo_count()
        if existing and not reset:
            summary.skipped, summary.existing = True, existing
            return summary
        if existing:
            summary.deleted = delete_demo()

        rng = random.Random(seed)
        gen = _Generator(rng, today, years, parks)
        taken = set(Enterprise.objects.values_list("name", flat=True))  # real ones win: no demo twin
        gen.names |= taken | {k.name for k in KEY_ENTERPRISES}
        keys = [k for k in KEY_ENTERPRISES if k.name not in taken]
        summary.key_enterprises = len(keys)
        _write([gen.key(k, parks[ZONE]) for k in keys], summary, batch_size)
        for chunk in _chunks(enterprises, batch_size):
            _write([gen.synthetic(serial + 1) for serial in chunk], summary, batch_size)
    analyze()
    summary.seconds = time.monotonic() - started
    return summary


def _write(generated: list[tuple[Enterprise, list, list, list]], summary: Summary, batch_size: int) -> None:
    """Enterprises through bulk_create (their new ids come back); their rows through _insert."""
    if not generated:
        return
    Enterprise.objects.bulk_create([g[0] for g in generated], batch_size=batch_size)
    years = [row for g in generated for row in g[1]]
    quals = [q for g in generated for q in g[2]]
    ips = [ip for g in generated for ip in g[3]]
    for model, rows in ((EnterpriseYear, years), (Qualification, quals), (IPAsset, ips)):
        for row in rows:
            row["enterprise_id"] = row.pop("enterprise").pk
        _insert(model, rows)
    summary.enterprises += len(generated)
    summary.years += len(years)
    summary.qualifications += len(quals)
    summary.ip_assets += len(ips)


def _insert(model, rows: list[dict]) -> None:
    """bulk_create without model instances, for the hundreds of thousands of demo rows: building and
    compiling instances is most of bulk_create's time, so plain rows go in with COPY (PostgreSQL) or
    one executemany (SQLite), about three times faster. Values must be what the driver takes as they
    are (Decimal, int, str, date, None: what the fields' get_db_prep_save returns for them); a field
    the rows leave out gets its default, auto_now fields the current time. Model rules are not run:
    the generator keeps them, the database constraints enforce them, the tests check them."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    missing = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            missing[f.attname] = f.get_db_prep_save(now, connection)
        elif f.attname not in rows[0]:
            missing[f.attname] = f.get_db_prep_save(f.get_default(), connection)
    names = [f.attname for f in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    params = [tuple(missing[n] if n in missing else row[n] for n in names) for row in rows]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy"):  # psycopg 3: COPY is the fast path
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for p in params:
                    copy.write_row(p)
        else:  # SQLite: one prepared statement run for every row is its fast path
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", params
            )


# ---------------------------------------------------------------------------------------------
# Demo accounts


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: roles.Role
    note: str  # what the account can see, for the printed table; {scope} and {n} (visible enterprises)


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "officer",
        roles.OFFICER,
        "全部企业 {n:,} 家：增改删、导入导出、变更记录；梯度培育、统计监测、计划任务；科技计划（批次、形式审查、"
        "评审、立项拨款）、揭榜挂帅；双向发榜审核与对接、认定登记；政策与免申即享；创新券审批、核验、结算；管理后台",
    ),
    DemoAccount(
        "park",
        roles.PARK_OPERATOR,
        "{scope}（含下级园区）的企业 {n:,} 家：维护年度数据和知识产权、导出；梯度培育；查阅政策和园区企业的政策兑现",
    ),
    DemoAccount(
        "enterprise",
        roles.ENTERPRISE,
        "仅本企业（{scope}）：维护年度数据和知识产权；项目申报、揭榜挂帅；双向发榜发布需求；高转项目和技术合同登记；"
        "申请创新券；政策兑现确认",
    ),
    DemoAccount(
        "university",
        roles.UNIVERSITY,
        "看不到企业库；双向发榜：发布成果和人才、对接企业需求；揭榜挂帅揭榜；查阅政策",
    ),
    DemoAccount(
        "expert",
        roles.EXPERT,
        "看不到企业库；评审任务：受邀评审的科技计划项目（有回避关系的看不到）、揭榜方案评分、高转项目评审；查阅政策",
    ),
    DemoAccount(
        "leader",
        roles.LEADER,
        "全部企业 {n:,} 家（只读，可导出）；梯度培育、统计监测、计划任务；双向发榜、认定登记、创新券、政策兑现（只读）",
    ),
)
# Made by `kechuang demo_vouchers` (kechuang/vouchers/demo.py, with the demo password) where these accounts exist, not
# here: a provider belongs to the voucher catalogue.
PROVIDER_ACCOUNT = DemoAccount(
    "provider", roles.PROVIDER, "仅本服务机构：提交创新券兑付，查看本机构的兑付和结算；看不到企业库"
)


@dataclass
class AccountRow:
    account: DemoAccount
    created: bool
    scope: str  # the enterprise or park it acts for, if any
    visible: int  # enterprises it can see now

    @property
    def sees(self) -> str:
        return self.account.note.format(scope=self.scope, n=self.visible)


class DemoAccountError(Exception):
    pass


def operator_park() -> Park:
    """临港松江科技园 when it has enterprises, otherwise the sub-park with the most."""
    from django.db.models import Count

    park = Park.objects.filter(name=OPERATOR_PARK).first()
    if park and Enterprise.objects.filter(park=park).exists():
        return park
    best = (
        Park.objects.filter(kind=choices.ParkKind.SUB_PARK)
        .annotate(n=Count("enterprise"))
        .order_by("-n", "name")
        .first()
    )
    if best is None and park is None:
        raise DemoAccountError("没有园区：请先运行 kechuang demo")
    return best or park


def ensure_demo_accounts() -> list[AccountRow]:
    """Creates or resets the demo accounts (one per role) with the demo password, their group and
    exactly their membership. Idempotent."""
    from django.contrib.auth.models import Group, User

    enterprise = Enterprise.objects.filter(name=KEY_ENTERPRISE_USER, is_demo=True).first()
    if enterprise is None:
        raise DemoAccountError(f"没有示例企业“{KEY_ENTERPRISE_USER}”：请先运行 kechuang demo")
    park = operator_park()
    roles.roles_sync()
    rows = []
    with transaction.atomic():
        for account in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=account.username)
            user.first_name = f"示例{account.role.name}"
            user.email = f"{account.username}@{DEMO_EMAIL_DOMAIN}"
            user.is_active = True
            user.is_staff = account.role is roles.OFFICER
            user.is_superuser = False
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=account.role.name)])
            Membership.objects.filter(user=user).delete()
            scope = ""
            if account.role is roles.ENTERPRISE:
                Membership.objects.create(user=user, enterprise=enterprise)
                scope = enterprise.name
            elif account.role is roles.PARK_OPERATOR:
                Membership.objects.create(user=user, park=park)
                scope = park.name
            user = User.objects.get(pk=user.pk)  # fresh permission cache
            rows.append(AccountRow(account, created, scope, Enterprise.objects.visible_to(user).count()))
    return rows


def provider_account_row() -> AccountRow | None:
    """The 服务机构 demo account, once `kechuang demo_vouchers` has made it."""
    from django.contrib.auth.models import User

    if not User.objects.filter(username=PROVIDER_ACCOUNT.username, email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists():
        return None
    return AccountRow(PROVIDER_ACCOUNT, created=False, scope="", visible=0)


def demo_accounts_exist() -> bool:
    from django.contrib.auth.models import User

    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()
