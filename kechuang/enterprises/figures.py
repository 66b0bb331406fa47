"""The yearly figures of an enterprise, each with its official definition and source.

One list drives the model fields, the Excel templates, the API schema and the detail page, so a figure
is defined once. Money is yuan in the database and 万元 wherever people read or type it.
"""

from dataclasses import dataclass
from decimal import Decimal

MONEY_MAX_YUAN = Decimal("1000000000000")  # 1万亿元: above this a yearly figure is a typing error
STAFF_MAX = Decimal("500000")


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    unit: str  # "money" (yuan, shown in 万元) or "people"
    definition: str

    @property
    def is_money(self) -> bool:
        return self.unit == "money"

    @property
    def display_unit(self) -> str:
        return "万元" if self.is_money else "人"

    @property
    def header(self) -> str:
        return f"{self.label}（{self.display_unit}）"


FIGURES: tuple[Figure, ...] = (
    Figure(
        "employees",
        "职工总数",
        "people",
        "年度月平均人数（月平均=(月初+月末)/2，全年=12个月平均数之和/12）；含在职、兼职、临时聘用人员，"
        "兼职和临时聘用人员须全年累计工作183天以上（国科发火〔2016〕195号 三(五)）",
    ),
    Figure(
        "tech_staff",
        "科技人员数",
        "people",
        "直接从事研发和相关技术创新活动及专门从事上述活动的管理和提供直接技术服务的人员，年度月平均数，"
        "累计实际工作183天以上（国科发火〔2016〕195号 三(五)）",
    ),
    Figure("rd_staff", "研发人员数", "people", "上年度直接从事研究开发活动的人员（专精特新评价口径）"),
    Figure(
        "sales_revenue",
        "销售收入",
        "money",
        "主营业务收入与其他业务收入之和，即营业收入，按企业所得税年度纳税申报表口径（国科发火〔2016〕195号 三(六)）",
    ),
    Figure("main_business_revenue", "主营业务收入", "money", "主营业务收入，按会计报表口径"),
    Figure(
        "total_income",
        "总收入",
        "money",
        "收入总额减去不征税收入（企业所得税法第六条、第七条；高企认定第十一条(六)分母）",
    ),
    Figure(
        "hitech_revenue",
        "高新技术产品（服务）收入",
        "money",
        "高新技术产品（服务）收入与技术性收入（技术转让、技术服务、接受委托研究开发）之和"
        "（国科发火〔2016〕195号 三(六)）",
    ),
    Figure(
        "rd_expense_hnte",
        "研发费用（高企口径）",
        "money",
        "按高企认定八类归集：委托外部研发按80%计入，其他费用一般不超过研发总费用的20%（国科发火〔2016〕195号 三(六)2）",
    ),
    Figure(
        "rd_expense_hnte_domestic",
        "境内研发费用（高企口径）",
        "money",
        "企业内部研发投入与委托境内机构或个人研发的费用之和，不含委托境外（国科发火〔2016〕32号 第十一条(五)）",
    ),
    Figure(
        "rd_expense_deduction",
        "研发费用（加计扣除口径）",
        "money",
        "按财税〔2015〕119号归集的研发费用（科技型中小企业评价口径，国科发政〔2017〕115号 第九条）",
    ),
    Figure(
        "rd_expense",
        "研发费用（会计口径）",
        "money",
        "按企业会计核算归集、财务报表列示的年度研发费用；优质中小企业梯度培育（创新型中小企业、专精特新中小企业、"
        "专精特新“小巨人”企业）的研发费用指标用此口径（工信部企业〔2022〕63号 附件1–3；工信部企业〔2026〕2号），"
        "不同于高企口径和加计扣除口径",
    ),
    Figure(
        "cost_expense_total",
        "成本费用支出总额",
        "money",
        "主营业务成本、其他业务成本、税金及附加和三项期间费用之和（科小评价研发投入指标(2)分母）",
    ),
    Figure("total_assets", "资产总额", "money", "年末资产总额"),
    Figure(
        "net_assets",
        "净资产",
        "money",
        "资产总额减负债总额，取年末数（国科发火〔2016〕195号 三(七)4）；可为负",
    ),
    Figure("total_profit", "利润总额", "money", "年度利润总额；可为负"),
    Figure("net_profit", "净利润", "money", "年度净利润；可为负"),
    Figure("tax_paid", "纳税总额", "money", "年度实际缴纳税费"),
    Figure("export_revenue", "出口额", "money", "年度出口销售额"),
    Figure("equity_financing", "新增股权融资", "money", "当年合格机构投资者实缴的新增股权融资额"),
    Figure("valuation", "估值", "money", "最近一轮融资的投后估值"),
)

FIGURES_BY_NAME = {figure.name: figure for figure in FIGURES}
MONEY_FIGURES = tuple(f.name for f in FIGURES if f.is_money)
PEOPLE_FIGURES = tuple(f.name for f in FIGURES if not f.is_money)
# Figures that may be negative; every other money figure must be ≥ 0.
SIGNED_FIGURES = frozenset({"net_assets", "total_profit", "net_profit"})
