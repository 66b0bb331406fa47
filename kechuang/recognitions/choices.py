"""Code lists of 认定登记, each with the article it comes from.

Sources (../shared/domain/): civil-code-technology-contracts.md (《中华人民共和国民法典》合同编 第二十章 技术合同,
arts. 843–887) and qualification-rules.md §6 (沪科规〔2020〕8号) and §8 (技术合同认定登记).
"""

from django.db import models


class ContractType(models.TextChoices):
    """民法典第八百四十三条：技术合同是当事人就技术开发、转让、许可、咨询或者服务订立的……合同 (five types)."""

    DEVELOPMENT = "development", "技术开发"
    TRANSFER = "transfer", "技术转让"
    LICENCE = "licence", "技术许可"
    CONSULTING = "consulting", "技术咨询"
    SERVICE = "service", "技术服务"


TYPE_SOURCES = {
    ContractType.DEVELOPMENT: "民法典第八百五十一条",
    ContractType.TRANSFER: "民法典第八百六十二条第一款、第八百六十三条第一款",
    ContractType.LICENCE: "民法典第八百六十二条第二款、第八百六十三条第二款",
    ContractType.CONSULTING: "民法典第八百七十八条第一款",
    ContractType.SERVICE: "民法典第八百七十八条第二款",
}


class SubType(models.TextChoices):
    ENTRUSTED = "entrusted", "委托开发"
    COOPERATIVE = "cooperative", "合作开发"
    ACHIEVEMENT = "achievement", "科技成果实施转化（参照技术开发）"
    PATENT_RIGHT = "patent_right", "专利权转让"
    PATENT_APPLICATION = "patent_application", "专利申请权转让"
    SECRET_TRANSFER = "secret_transfer", "技术秘密转让"
    OTHER_IP_TRANSFER = "other_ip_transfer", "其他知识产权转让（布图设计、植物新品种、软件著作权等）"
    PATENT_LICENCE = "patent_licence", "专利实施许可"
    SECRET_LICENCE = "secret_licence", "技术秘密使用许可"
    OTHER_IP_LICENCE = "other_ip_licence", "其他知识产权许可（布图设计、植物新品种、软件著作权等）"
    FEASIBILITY = "feasibility", "可行性论证"
    FORECAST = "forecast", "技术预测"
    INVESTIGATION = "investigation", "专题技术调查"
    EVALUATION = "evaluation", "分析评价报告"
    TECH_SERVICE = "tech_service", "技术服务"
    INTERMEDIARY = "intermediary", "技术中介"
    TRAINING = "training", "技术培训"


# The sub-types of each type, with the article that names them.
SUB_TYPES: dict[str, dict[str, str]] = {
    ContractType.DEVELOPMENT: {
        SubType.ENTRUSTED: "民法典第八百五十一条第二款",
        SubType.COOPERATIVE: "民法典第八百五十一条第二款",
        SubType.ACHIEVEMENT: "民法典第八百五十一条第四款",
    },
    ContractType.TRANSFER: {
        SubType.PATENT_RIGHT: "民法典第八百六十三条第一款",
        SubType.PATENT_APPLICATION: "民法典第八百六十三条第一款",
        SubType.SECRET_TRANSFER: "民法典第八百六十三条第一款",
        SubType.OTHER_IP_TRANSFER: "民法典第八百七十六条",
    },
    ContractType.LICENCE: {
        SubType.PATENT_LICENCE: "民法典第八百六十三条第二款",
        SubType.SECRET_LICENCE: "民法典第八百六十三条第二款",
        SubType.OTHER_IP_LICENCE: "民法典第八百七十六条",
    },
    ContractType.CONSULTING: {
        SubType.FEASIBILITY: "民法典第八百七十八条第一款",
        SubType.FORECAST: "民法典第八百七十八条第一款",
        SubType.INVESTIGATION: "民法典第八百七十八条第一款",
        SubType.EVALUATION: "民法典第八百七十八条第一款",
    },
    ContractType.SERVICE: {
        SubType.TECH_SERVICE: "民法典第八百七十八条第二款",
        SubType.INTERMEDIARY: "民法典第八百八十七条",
        SubType.TRAINING: "民法典第八百八十七条",
    },
}


def sub_type_allowed(contract_type: str, sub_type: str) -> bool:
    return sub_type in SUB_TYPES.get(contract_type, {})


def sub_type_labels(contract_type: str) -> str:
    labels = dict(SubType.choices)
    return "、".join(labels[s] for s in SUB_TYPES.get(contract_type, {}))


class PaymentMode(models.TextChoices):
    """民法典第八百四十六条第一款: the four ways the price, pay or fee may be paid."""

    LUMP_SUM = "lump_sum", "一次总算、一次总付"
    INSTALMENTS = "instalments", "一次总算、分期支付"
    ROYALTY = "royalty", "提成支付"
    ROYALTY_WITH_FEE = "royalty_with_fee", "提成支付附加预付入门费"


# 提成支付: the amount depends on later sales, so the plan cannot add up to the 成交额 in advance.
ROYALTY_MODES = (PaymentMode.ROYALTY, PaymentMode.ROYALTY_WITH_FEE)


class Exclusion(models.TextChoices):
    """不予认定的情形 of 沪科规〔2020〕8号 (qualification-rules.md §6), judged by an officer. The default,
    NOT_JUDGED, counts as "unknown" (待定), never as met."""

    NOT_JUDGED = "not_judged", "尚未判断"
    NONE = "none", "不属于不予认定情形"
    ROUTINE = "routine", "一般性工艺改进或产品改型"
    MATURE = "mature", "已形成规模销售的成熟产品"
    EVERYDAY = "everyday", "食品、保健品、饮料、化妆品、服装、家具、家用电器、工艺品、办公用品等日常消费品"


class ReviewState(models.TextChoices):
    ASSIGNED = "assigned", "待评审"
    SUBMITTED = "submitted", "已评审"
    WITHDRAWN = "withdrawn", "回避退出"
