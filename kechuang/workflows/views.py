"""流程 pages: the task inbox (待办) of every user, and the page where an officer adjusts a workflow by
publishing a new version (workflows.change_workflow).

The inbox lists, per workflow, the objects the user may see (each app's scope, selectors.register_scope) on
which a transition may be taken now, with a button per transition; the button posts to `take`, which fetches
the object through the same scope (404 outside it) and takes the step through the app's service or
engine.take (permission, state and guards checked again under a row lock).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kechuang.workflows import engine, selectors
from kechuang.workflows.forms import PublishForm, TakeForm

PUBLISHED = "已发布 {key} 第 {version} 版；已在办的对象仍按其原版本流转。"
TAKEN = "“{obj}”：已{label}，当前状态“{state}”。"
NOT_FOUND = "对象不存在或无权查看"


def _messages(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


@login_required
@permission_required("workflows.change_workflow", raise_exception=True)
@require_GET
def index(request):
    return render(request, "workflows/index.html", {"overviews": selectors.overviews()})


@login_required
@permission_required("workflows.change_workflow", raise_exception=True)
@require_http_methods(["GET", "POST"])
def detail(request, key: str):
    if key not in selectors.keys():
        raise Http404("流程不存在")
    overview = selectors.overview(key)
    latest = overview.latest
    if request.method == "POST":
        form = PublishForm(request.POST)
        if form.is_valid():
            try:
                workflow = engine.publish(
                    key, form.cleaned_data["definition"], user=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                for message in _messages(error):
                    form.add_error("definition", message)
            else:
                messages.success(request, PUBLISHED.format(key=key, version=workflow.version))
                return redirect("workflows:detail", key=key)
    else:
        form = PublishForm(initial={"definition": latest.definition_json if latest else ""})
    shown = latest
    wanted = request.GET.get("v", "")
    if wanted.isdigit():
        shown = next((v for v in overview.versions if v.number == int(wanted)), None)
        if shown is None:
            raise Http404("版本不存在")
    return render(
        request,
        "workflows/detail.html",
        {
            "overview": overview,
            "shown": shown,
            "form": form,
            "guards": selectors.guard_names(key),
        },
    )


@login_required
@require_GET
def inbox(request):
    return render(
        request,
        "workflows/inbox.html",
        {
            "sections": selectors.inbox(request.user),
            "can_adjust": request.user.has_perm("workflows.change_workflow"),
        },
    )


@login_required
@require_POST
def take(request, key: str, pk: int):
    model = selectors.model_of(key)
    if model is None:
        raise Http404(NOT_FOUND)
    try:
        obj = selectors.visible(key, request.user).select_related("workflow").get(pk=pk)
    except model.DoesNotExist:
        raise Http404(NOT_FOUND) from None
    form = TakeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    else:
        name = form.cleaned_data["transition"]
        try:
            selectors.take(key, obj, name, request.user, form.cleaned_data["reason"])
        except PermissionDenied as error:
            messages.error(request, f"“{obj}”：{error}")
        except ValidationError as error:
            messages.error(request, f"“{obj}”：" + "；".join(_messages(error)))
        else:
            obj.refresh_from_db(fields=["state"])  # an app's service may have moved its own copy
            label = next(t["label"] for t in obj.workflow.definition["transitions"] if t["name"] == name)
            messages.success(request, TAKEN.format(obj=obj, label=label, state=engine.state_label(obj)))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "workflows:inbox")
