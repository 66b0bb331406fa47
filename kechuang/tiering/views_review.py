"""参数核实 and 假设分析 pages (mounted by urls.py under /tiering/).

- /tiering/parameters/ — every dated parameter value (待核实 only by default), for officers;
  /tiering/parameters/<path>/<effective_from>/ — confirm it or correct it, with the basis (依据).
- /tiering/what-if/ — officers (and leaders, park operators within their parks): one parameter changed
  over the latest finished run; who would gain or lose each qualification. Nothing is saved.
- /tiering/enterprises/<pk>/what-if/ — an enterprise's latest-year figures changed: its qualifications
  re-assessed, was → would be. Nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from kechuang.enterprises.access import enterprise_for_user
from kechuang.enterprises.models import Enterprise
from kechuang.rules.parameters import ParameterError
from kechuang.tiering import review, selectors, services, whatif
from kechuang.tiering.review import RevisionError

LIST_PAGE_SIZE = 20
DECIDED_CONFIRM = "已确认 {name} 的取值。实时评估和此后发起的评估批次按此取值；已完成的批次仍按其当时的参数。"
DECIDED_CORRECT = (
    "已将 {name} 修正为 {value}。实时评估和此后发起的评估批次按此取值；已完成的批次仍按其当时的参数。"
)
NO_RUN = "尚无已完成的评估批次：请先发起一次梯度评估，再作假设分析。"
SAME_VALUE = "新取值与该批次所用的取值相同，结果不会变化。"
NO_PARAMETER = "请选择参数"
VALUE_REQUIRED = "请填写新取值"


# --- 参数核实 ----------------------------------------------------------------------------------------------


@login_required
@permission_required("tiering.view_parameterrevision", raise_exception=True)
@require_GET
def parameter_list(request):
    show = request.GET.get("show") if request.GET.get("show") in ("unconfirmed", "all") else "unconfirmed"
    areas = review.areas()
    area = request.GET.get("area") if request.GET.get("area") in dict(areas) else ""
    rows = review.parameter_rows(unconfirmed_only=show == "unconfirmed", area=area or None)
    context = {
        "rows": rows,
        "show": show,
        "area": area,
        "areas": areas,
        "awaiting": len(review.parameter_rows(unconfirmed_only=True)),
    }
    return render(request, "tiering/review/parameter_list.html", context)


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        label="核实结论",
        choices=[("confirm", "按原值确认"), ("correct", "修正取值（修正后即为已确认）")],
        widget=forms.RadioSelect,
        initial="confirm",
    )
    value = forms.CharField(label="修正后的取值", required=False)
    note = forms.CharField(
        label="核实依据",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": review.NOTE_REQUIRED, "max_length": "核实依据不能超过 300 个字"},
        help_text="文件名称及条款，或核实的过程；显示在每条用到该参数的评估说明的“依据”中",
    )

    def __init__(self, *args, row: review.ParameterRow, **kwargs):
        super().__init__(*args, **kwargs)
        self.row = row
        kind = row.kind
        value = self.fields["value"]
        value.initial = review.typed_text(row.value)
        value.label = "修正后的取值（仅修正时填写）"
        if kind == "table":
            value.widget = forms.Textarea(
                attrs={"rows": max(4, value.initial.count("\n") + 2), "class": "code"}
            )
            value.help_text = (
                "YAML 或 JSON，字段与原取值相同（每档一行）；比例按小数写（0.05 表示 5%），金额按元"
            )
        elif kind == "bool":
            value.widget = forms.Select(choices=[("true", "是"), ("false", "否")])
        elif kind == "text":
            value.widget = forms.Textarea(attrs={"rows": 2})
        else:
            value.label = f"修正后的取值（{row.input_unit}，仅修正时填写）"
            value.widget = forms.TextInput(attrs={"inputmode": "decimal"})
            value.help_text = {
                "ratio": "按百分数填写，如 10 表示 10%",
                "money": "按万元填写，如 5000 表示 5,000万元",
            }.get(kind, f"单位：{row.value.unit}")

    def clean(self):
        data = super().clean()
        if data.get("action") == "correct" and "value" not in self.errors:
            try:
                data["parsed"] = review.parse_value(self.row.value, data.get("value", ""))
            except RevisionError as error:
                self.add_error("value", str(error))
        return data


def _date_or_404(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Http404("日期格式应为 YYYY-MM-DD") from None


@login_required
@permission_required("tiering.view_parameterrevision", raise_exception=True)
@require_http_methods(["GET", "POST"])
def parameter_decide(request, parameter: str, effective_from: str):
    row = review.parameter_row(parameter, _date_or_404(effective_from))
    if row is None:
        raise Http404("参数或该生效日期的取值不存在")
    user = request.user
    may_decide = user.has_perm("tiering.add_parameterrevision") and (
        row.revision is None or user.has_perm("tiering.change_parameterrevision")
    )
    if request.method == "POST":
        if not may_decide:
            raise PermissionDenied("无权核实参数")
        form = DecisionForm(request.POST, row=row)
        if form.is_valid():
            correct = form.cleaned_data["action"] == "correct"
            value = form.cleaned_data["parsed"] if correct else None
            try:
                review.revision_decide(
                    user=user,
                    path=row.path,
                    effective_from=row.value.effective_from,
                    value=value,
                    note=form.cleaned_data["note"],
                )
            except RevisionError as error:
                form.add_error("value" if correct else None, str(error))
            else:
                name = review.display_name(row.value)
                text = (
                    DECIDED_CORRECT.format(name=name, value=review.value_text(row.value, value))
                    if correct
                    else DECIDED_CONFIRM.format(name=name)
                )
                messages.success(request, text)
                return redirect(
                    f"{reverse('tiering:parameters')}?{urlencode({'show': 'all', 'area': row.area})}"
                )
    else:
        form = DecisionForm(row=row)
    context = {"row": row, "form": form, "may_decide": may_decide}
    return render(request, "tiering/review/parameter_decide.html", context)


# --- 假设分析：参数 ------------------------------------------------------------------------------------------


class WhatIfForm(forms.Form):
    parameter = forms.ChoiceField(label="参数", error_messages={"required": NO_PARAMETER})
    value = forms.CharField(label="新取值", error_messages={"required": VALUE_REQUIRED})

    def __init__(self, *args, choices: dict[str, review.ParameterValue], **kwargs):
        super().__init__(*args, **kwargs)
        self.values = choices
        self.fields["parameter"].choices = [("", "— 选择参数 —")] + [
            (
                p,
                f"{review.area_label(p.split('.', 1)[0])} · {v.label}（现为 {review.value_text(v)}"
                f"{'，按 ' + review.input_unit(v) + ' 填写' if review.input_unit(v) in ('%', '万元') else ''}）",
            )
            for p, v in choices.items()
        ]
        self.fields["parameter"].error_messages["invalid_choice"] = "“%(value)s”不是可作假设分析的参数"
        self.fields["value"].widget.attrs["inputmode"] = "decimal"
        self.fields["value"].help_text = "比例按百分数填写（如 8 表示 8%），金额按万元，其余按参数的单位"

    def clean(self):
        data = super().clean()
        chosen = self.values.get(data.get("parameter", ""))
        if chosen is not None and "value" in data:
            try:
                data["parsed"] = review.parse_value(chosen, data["value"])
            except RevisionError as error:
                self.add_error("value", str(error))
        return data


@dataclass
class ChangeList:
    """One page of the enterprises that would gain (or lose) one qualification."""

    key: str  # "<area>_gained" / "<area>_lost": the anchor and the page parameter
    title: str
    page: Page
    items: list[tuple[int, str]]  # (enterprise id, name)
    previous_url: str | None
    next_url: str | None


def _page_url(request, key: str, number: int) -> str:
    query = request.GET.copy()
    query[key] = str(number)
    return f"?{query.urlencode()}#{key}"


def _change_lists(request, result: whatif.PopulationWhatIf) -> list[ChangeList]:
    """Per affected qualification, a page of who would gain it and a page of who would lose it (each
    paged by its own parameter), the names of the shown enterprises read in one query."""
    lists: list[ChangeList] = []
    for area in result.affected:
        for kind, ids, title in (
            ("gained", area.gained, f"将新满足{area.label}条件的企业"),
            ("lost", area.lost, f"将不再满足{area.label}条件的企业"),
        ):
            if not ids:
                continue
            key = f"{area.area}_{kind}"
            page = Paginator(ids, LIST_PAGE_SIZE).get_page(request.GET.get(key))
            lists.append(
                ChangeList(
                    key=key,
                    title=title,
                    page=page,
                    items=[],
                    previous_url=_page_url(request, key, page.previous_page_number())
                    if page.has_previous()
                    else None,
                    next_url=_page_url(request, key, page.next_page_number()) if page.has_next() else None,
                )
            )
    wanted = [pk for listing in lists for pk in listing.page.object_list]
    names = dict(Enterprise.objects.filter(pk__in=wanted).values_list("pk", "name")) if wanted else {}
    for listing in lists:
        listing.items = [(pk, names.get(pk, f"企业 {pk}")) for pk in listing.page.object_list]
    return lists


@login_required
@permission_required("tiering.view_assessment", raise_exception=True)
@require_GET
def what_if(request):
    run = selectors.run_shown(request.GET.get("run"))
    runs = list(selectors.done_runs()[:50])
    context: dict = {"runs": runs, "run": run, "no_run": NO_RUN}
    if run is None:
        return render(request, "tiering/review/what_if.html", context)
    baseline = services.snapshot_parameters(run.parameters)
    choices = {v.path: v for v in whatif.scalar_parameters(baseline, run.assessed_on)}
    submitted = "parameter" in request.GET
    form = WhatIfForm(request.GET if submitted else None, choices=choices)
    result = None
    if submitted and form.is_valid():
        scope = selectors.enterprise_scope(request.user)
        try:
            result = whatif.population_what_if(
                run=run,
                path=form.cleaned_data["parameter"],
                value=form.cleaned_data["parsed"],
                enterprises=scope,
            )
        except ParameterError as error:
            form.add_error(
                "value", f"{review.display_name(choices[form.cleaned_data['parameter']])}：{error}"
            )
    context |= {
        "form": form,
        "result": result,
        "lists": _change_lists(request, result) if result else [],
        "same": result is not None and result.new_value == result.parameter.value,
        "same_message": SAME_VALUE,
    }
    return render(request, "tiering/review/what_if.html", context)


# --- 假设分析：一家企业 ----------------------------------------------------------------------------------------


@login_required
@require_GET
def enterprise_what_if(request, pk: int):
    enterprise = enterprise_for_user(request.user, pk)
    on = timezone.localdate()
    fields = whatif.input_fields(on)
    situation = whatif.current_situation(enterprise=enterprise, on=on)
    submitted = any(f.column in request.GET for f in fields)
    typed = {
        f.column: request.GET.get(f.column, "") if submitted else f.typed(situation.get(f.column))
        for f in fields
    }
    errors: dict[str, str] = {}
    result = None
    if submitted:
        values, errors = whatif.parse_inputs(fields, typed)
        if not errors:
            result = whatif.enterprise_what_if(situation=situation, on=on, values=values, fields=fields)
    rows = [
        {
            "field": f,
            "typed": typed[f.column],
            "current": f.shown(situation.get(f.column)),
            "error": errors.get(f.column),
        }
        for f in fields
    ]
    context = {
        "enterprise": enterprise,
        "on": on,
        "rows": rows,
        "errors": [(f.label, errors[f.column]) for f in fields if f.column in errors],
        "result": result,
        "submitted": submitted,
    }
    return render(request, "tiering/review/enterprise_what_if.html", context)


urlpatterns = [
    path("parameters/", parameter_list, name="parameters"),
    path("parameters/<str:parameter>/<str:effective_from>/", parameter_decide, name="parameter-decide"),
    path("what-if/", what_if, name="what-if"),
    path("enterprises/<int:pk>/what-if/", enterprise_what_if, name="enterprise-what-if"),
]
