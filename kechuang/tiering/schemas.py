"""The tiering API's schemas (django-ninja / pydantic): runs, stored results, one enterprise's assessment
with every explanation, the HNTE cultivation pool, and the dated parameters."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from kechuang import rules
from kechuang.tiering.models import AssessmentRun, AssessmentStatus

AREAS = tuple(rules.QUALIFICATIONS)
STATUSES = tuple(AssessmentStatus.values)
AREA_DOC = "资质代码：" + "、".join(f"{area}（{rules.NAMES[area]}）" for area in AREAS)
STATUS_DOC = "结果：met 满足 / not_met 不满足 / unknown 待定（所需数据缺失或需专家评审，不按不满足计）"


# --- runs ----------------------------------------------------------------------------------------------------


class TieringRunOut(Schema):
    id: int
    assessed_on: date = Field(
        description="评价日期：年度数据取其前三个年度（y−1、y−2、y−3），资质按该日是否在有效期内"
    )
    status: Literal[tuple(AssessmentRun.Status.values)] = Field(  # type: ignore[valid-type]
        description="queued 排队中 / running 评估中 / done 已完成 / failed 失败；只有 done 的批次有结果"
    )
    status_display: str
    total: int = Field(description="企业数")
    processed: int = Field(description="已完成企业数")
    percent: int = Field(description="进度（0–100）")
    stage: str = Field(description="进度说明")
    message: str = Field(description="完成或失败的说明")
    parameters_version: str | None = Field(
        description="所用参数版本（参数文件与核实修正的指纹）；开始评估前为 null"
    )
    created_at: datetime
    finished_at: datetime | None
    seconds: float | None = Field(description="用时（秒）")

    @staticmethod
    def resolve_status_display(obj) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_parameters_version(obj) -> str | None:
        return obj.parameters_id


class RunCreate(Schema):
    model_config = ConfigDict(extra="forbid")

    assessed_on: str = Field(
        description="评价日期，YYYY-MM-DD；2000-01-01 至一年以后",
        json_schema_extra={"format": "date"},
        examples=["2026-06-30"],
    )


class AssessmentFilters(Schema):
    area: Literal[AREAS] | None = Field(None, description=AREA_DOC)  # type: ignore[valid-type]
    status: Literal[STATUSES] | None = Field(None, description=STATUS_DOC)  # type: ignore[valid-type]
    park: int | None = Field(None, description="园区 id，含其下属分园/载体")


class AssessmentOut(Schema):
    """One enterprise's stored result for one qualification in a run."""

    enterprise_id: int
    enterprise_name: str
    uscc: str
    park_id: int | None
    park_name: str | None
    area: str = Field(description=AREA_DOC)
    area_label: str
    status: str = Field(description=STATUS_DOC)
    status_display: str
    score_min: int | None = Field(description="评分下限（有评分的资质）；专家评价项按 0 分计")
    score_max: int | None = Field(description="评分上限；专家评价项按满分计")
    unmet: int = Field(description="不满足的条件数")
    unknown: int = Field(description="无法判断的条件数")

    @staticmethod
    def resolve_enterprise_name(obj) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_uscc(obj) -> str:
        return obj.enterprise.uscc

    @staticmethod
    def resolve_park_id(obj) -> int | None:
        return obj.enterprise.park_id

    @staticmethod
    def resolve_park_name(obj) -> str | None:
        return obj.enterprise.park.name if obj.enterprise.park_id else None

    @staticmethod
    def resolve_area_label(obj) -> str:
        return rules.NAMES.get(obj.area, obj.area)

    @staticmethod
    def resolve_status_display(obj) -> str:
        return obj.get_status_display()


# --- one enterprise's assessment ----------------------------------------------------------------------------


class ExplanationOut(Schema):
    code: str = Field(description="条件或评分项代码，如 hnte.H4、hnte.S.ip_count")
    kind: Literal["condition", "score"] = Field(description="condition 条件 / score 评分项")
    label: str
    status: str = Field(description="条件：met / not_met / unknown；评分项：met 分数已定，unknown 分数为区间")
    value: str = Field(description="企业的情况（评分项：所在档次和得分）")
    threshold: str = Field(description="要求")
    source: str = Field(description="依据（文件及条款）；待核实的参数注明“待核实”，核实过的注明核实人和依据")
    gap: str = Field(description="差距：还缺什么、差多少；满足时为空")
    notes: list[str]
    unconfirmed: bool = Field(description="用到待核实的参数")
    text: str = Field(description="完整的中文说明")


class AreaOut(Schema):
    area: str = Field(description=AREA_DOC)
    label: str
    status: str = Field(description=STATUS_DOC)
    status_display: str
    score_min: int | None
    score_max: int | None
    unconfirmed: bool = Field(description="有条件或评分项用到待核实的参数")
    gaps: list[str] = Field(description="不满足或待定的条件及其差距")
    explanations: list[ExplanationOut] = Field(description="每个条件，然后每个评分项")


class EnterpriseAssessmentOut(Schema):
    enterprise_id: int
    enterprise_name: str
    on: date = Field(description="评价日期")
    run_id: int | None = Field(description="评估批次（重放时）；实时评价为 null")
    parameters_version: str = Field(description="所用参数版本")
    areas: list[AreaOut] = Field(description="每项资质，按梯度顺序")


# --- pools -----------------------------------------------------------------------------------------------------


class PoolQuery(Schema):
    run: int | None = Field(None, description="评估批次 id；默认最近一次已完成的批次")
    park: int | None = Field(None, description="园区 id，含其下属分园/载体")
    limit: int = Field(100, ge=1, le=500, description="每页条数（至多 500）")
    offset: int = Field(0, ge=0, description="跳过的条数")


class PoolEntryOut(Schema):
    rank: int = Field(description="名次（1 起）：差距由小到大")
    enterprise_id: int
    enterprise_name: str
    park_id: int | None
    park_name: str | None
    status: str = Field(description="高企认定结果：not_met 或 unknown")
    unmet: int = Field(description="不满足的条件数")
    unknown: int = Field(description="待定的条件数")
    score_min: int | None
    score_max: int | None


class PoolPage(Schema):
    run_id: int | None = Field(description="所用评估批次；尚无已完成的批次时为 null（items 为空）")
    assessed_on: date | None
    items: list[PoolEntryOut]
    count: int


# --- parameters ------------------------------------------------------------------------------------------------


class ParameterFilters(Schema):
    unconfirmed: bool = Field(False, description="true：只列出待核实（尚未核实确认或修正）的取值")
    area: str | None = Field(None, description="参数文件（资质），如 hnte、tech_sme")


class RevisionOut(Schema):
    value: Any = Field(
        description="修正后的取值（按参数文件的单位：比例为小数，金额为元）；按原值确认时为 null"
    )
    note: str = Field(description="核实依据")
    decided_by: str | None = Field(description="核实人")
    decided_at: datetime = Field(description="核实时间")


class ParameterOut(Schema):
    path: str = Field(description="参数路径：<文件>.<参数名>，如 hnte.tech_staff_ratio_min")
    area: str
    area_label: str
    label: str
    effective_from: date = Field(description="生效日期（含）")
    effective_to: date | None = Field(description="失效日期（含）；null 为现行")
    value: Any = Field(description="现行取值，按参数文件的单位（比例为小数，如 0.1 表示 10%；金额为元）")
    value_text: str = Field(description="现行取值的中文写法（10%、5,000万元）；档次表为一行")
    unit: str
    reference: str = Field(description="参数文件写明的依据（文件及条款）")
    source: str = Field(description="评估说明中显示的依据：含核实记录；待核实的注明“待核实”")
    status: Literal["confirmed", "unconfirmed"] = Field(description="现行状态：核实确认或修正后为 confirmed")
    unconfirmed: bool = Field(description="待核实")
    revision: RevisionOut | None = Field(description="科委业务人员的核实结论；未核实为 null")
