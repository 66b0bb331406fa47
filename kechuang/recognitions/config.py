"""The values of 认定登记 that the official texts do not settle (or that a district may set), read from Django
settings with the defaults below; each says where it comes from and whether it is confirmed. Read when used,
never at import time (a test or a deployment may override them).

| setting                              | default  | status and source |
| ------------------------------------ | -------- | ----------------- |
| RECOGNITIONS_CERTIFICATE_YEARS       | 3        | 待核实: 沪科规〔2020〕8号 as we hold it states no validity for the 高转 certificate (qualification-rules.md §6, "What I could not confirm" 9); 3 years is the platform's assumption |
| RECOGNITIONS_DECISION_DAYS           | 30       | 国科发政字〔2000〕063号: decided within 30 days of acceptance (§8.2); the 2026 MIIT 办法's deadline is 待核实 (its 2024 draft: 15 working days, 30 for 技术交易额 ≥ 500万元 or disputed contracts) |
| RECOGNITIONS_REGION_CODE             | 310117   | GB/T 2260 行政区划代码 of 松江区: the middle 6 digits of the 16-digit 合同登记编号 the platform issues (年份4位 + 区划6位 + 当年序号6位); the registry's own format is 待核实 (§8.3 says only "16 digits, filled in by the registry") |
| RECOGNITIONS_REVIEWS_REQUIRED        | 3        | the platform's: expert reviews a 高转 project needs before its recognition is recorded (the 办法's review procedure is 待核实) |
"""

from django.conf import settings

DEFAULT_CERTIFICATE_YEARS = 3
DEFAULT_DECISION_DAYS = 30
DEFAULT_REGION_CODE = "310117"
DEFAULT_REVIEWS_REQUIRED = 3

UNCONFIRMED = "待核实"
CERTIFICATE_YEARS_NOTE = (
    "高转项目认定证书有效期：默认 {years} 年（待核实——沪科规〔2020〕8号 未见有效期规定，"
    "平台暂按 {years} 年计，可在设置 RECOGNITIONS_CERTIFICATE_YEARS 中调整）"
)
DECISION_DAYS_NOTE = (
    "认定登记决定期限：受理后 {days} 日（国科发政字〔2000〕063号；2026 年《技术合同认定登记管理办法》的期限待核实，"
    "其 2024 年征求意见稿为 15 个工作日、技术交易额 500 万元以上或有争议的 30 个工作日）"
)
REGISTRATION_NO_NOTE = (
    "合同登记编号 16 位：年份 4 位 + 行政区划代码 {region} 6 位 + 当年序号 6 位（编号规则待核实；"
    "登记机构另有编号的，登记时可直接填写）"
)


def certificate_years() -> int:
    return int(getattr(settings, "RECOGNITIONS_CERTIFICATE_YEARS", DEFAULT_CERTIFICATE_YEARS))


def decision_days() -> int:
    return int(getattr(settings, "RECOGNITIONS_DECISION_DAYS", DEFAULT_DECISION_DAYS))


def region_code() -> str:
    return str(getattr(settings, "RECOGNITIONS_REGION_CODE", DEFAULT_REGION_CODE))


def reviews_required() -> int:
    return int(getattr(settings, "RECOGNITIONS_REVIEWS_REQUIRED", DEFAULT_REVIEWS_REQUIRED))


def notes() -> dict[str, str]:
    """The unconfirmed settings in words, for the pages."""
    return {
        "certificate": CERTIFICATE_YEARS_NOTE.format(years=certificate_years()),
        "decision": DECISION_DAYS_NOTE.format(days=decision_days()),
        "registration_no": REGISTRATION_NO_NOTE.format(region=region_code()),
    }
