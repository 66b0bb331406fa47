"""Registry pages: each view gets its object through access.py, validates a form, saves, renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from kechuang.enterprises import choices, selectors
from kechuang.enterprises.access import child_for_user, enterprise_for_user
from kechuang.enterprises.forms import EnterpriseForm, IPAssetForm, QualificationForm, YearForm
from kechuang.enterprises.models import EnterpriseYear, IPAsset, Park, Qualification

PAGE_SIZE = 25


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
@require_GET
def enterprise_list(request):
    filters = selectors.RegistryFilters.from_params(request.GET)
    qs = selectors.enterprise_list(user=request.user, filters=filters)
    page = selectors.registry_page(
        qs, request.GET.get("page"), PAGE_SIZE, count_in_page_query=bool(filters.qualification or filters.validity)
    )
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = request.GET.copy()
    for key in ("page", "sort"):
        sort_query.pop(key, None)
    context = {
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "sort_query": sort_query.urlencode(),
        "parks": Park.objects.order_by("parent_id", "name"),
        "industries": choices.Industry.choices,
        "hitech_fields": choices.HitechField.choices,
        "qualification_kinds": choices.QualificationKind.choices,
        "validity_choices": selectors.VALIDITY_CHOICES,
        "sort_columns": [("name", "企业名称"), ("uscc", "统一社会信用代码"), ("park", "园区"), ("registration_date", "成立日期")],
    }
    template = "enterprises/partials/enterprise_table.html" if request.headers.get("HX-Request") else "enterprises/enterprise_list.html"
    return render(request, template, context)


@login_required
@permission_required("enterprises.add_enterprise", raise_exception=True)
def enterprise_create(request):
    form = EnterpriseForm(request.POST or None, officer=True)
    if request.method == "POST" and form.is_valid():
        enterprise = form.save()
        messages.success(request, f"已新增企业“{enterprise.name}”。")
        return redirect(enterprise)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "title": "新增企业"})


@login_required
def enterprise_detail(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    return render(request, "enterprises/enterprise_detail.html", selectors.enterprise_page(enterprise=enterprise, user=request.user))


@login_required
def enterprise_edit(request, pk):
    enterprise = enterprise_for_user(request.user, pk, action="change")
    officer = request.user.has_perm("enterprises.view_all_enterprises")
    form = EnterpriseForm(request.POST or None, instance=enterprise, officer=officer)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "企业信息已保存。")
        return redirect(enterprise)
    return render(
        request, "enterprises/enterprise_form.html", {"form": form, "enterprise": enterprise, "title": f"编辑：{enterprise.name}"}
    )


@login_required
def enterprise_history(request, pk):
    enterprise = enterprise_for_user(request.user, pk)
    if not request.user.has_perm("enterprises.view_history"):
        raise PermissionDenied("无权查看变更记录")
    page = Paginator(selectors.enterprise_changes(enterprise=enterprise), 50).get_page(request.GET.get("page"))
    return render(request, "enterprises/enterprise_history.html", {"enterprise": enterprise, "page": page})


def _child_edit(request, pk, child_pk, *, model, form_class, title):
    """Add (child_pk None) or edit one year, IP asset or qualification of an enterprise."""
    action = "change" if child_pk else "add"
    enterprise = enterprise_for_user(request.user, pk)
    if child_pk:
        instance = child_for_user(request.user, model, child_pk, action="change")
        if instance.enterprise_id != enterprise.pk:
            raise PermissionDenied("记录不属于该企业")
    else:
        if not request.user.has_perm(f"enterprises.add_{model._meta.model_name}"):
            raise PermissionDenied(f"无权新增{model._meta.verbose_name}")
        instance = None
    form = form_class(request.POST or None, instance=instance, enterprise=enterprise)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{model._meta.verbose_name}已保存。")
        return redirect(enterprise)
    context = {"form": form, "enterprise": enterprise, "title": f"{'编辑' if instance else '新增'}{title}", "action": action}
    return render(request, "enterprises/child_form.html", context)


@login_required
def year_edit(request, pk, year_pk=None):
    return _child_edit(request, pk, year_pk, model=EnterpriseYear, form_class=YearForm, title="年度数据")


@login_required
def ip_edit(request, pk, ip_pk=None):
    return _child_edit(request, pk, ip_pk, model=IPAsset, form_class=IPAssetForm, title="知识产权")


@login_required
def qualification_edit(request, pk, qualification_pk=None):
    return _child_edit(request, pk, qualification_pk, model=Qualification, form_class=QualificationForm, title="资质")
