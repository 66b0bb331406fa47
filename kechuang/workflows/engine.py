"""The workflow engine: declared defaults, published versions, allowed transitions, taking one.

Each app declares its workflows in its own `workflows.py` and registers them at start-up:

    register(
        "projects.application",
        default={"initial": "draft", "states": {...}, "transitions": [...]},
        guards={"before_deadline": lambda obj, user: None or "中文理由"},
    )

A transition is {"name", "label", "from": [states], "to": state, "permission": "app.codename" (who may take it;
"" for anyone who may see the object), "guards": [guard names]}; a guard returns None when the transition may
be taken, or the Chinese reason it may not. An administrator adjusts a workflow by publishing a new version
(`publish`: states, transitions, permissions and which guards apply — the guards' code stays in the app); objects
started under an older version keep it (`WorkflowModel.workflow`), so a change never strands one in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kechuang.workflows.models import TransitionLog, Workflow, WorkflowModel

Guard = Callable[[Any, Any], "str | None"]


@dataclass
class Declared:
    default: dict
    guards: dict[str, Guard] = field(default_factory=dict)


REGISTRY: dict[str, Declared] = {}
STATE_MAX = WorkflowModel._meta.get_field("state").max_length  # what the objects' state column holds
NAME_MAX = TransitionLog._meta.get_field("transition").max_length


def register(key: str, default: dict, guards: dict[str, Guard] | None = None) -> None:
    REGISTRY[key] = Declared(default, guards or {})
    # At start-up the database may not exist yet (migrate): permissions are checked when a version is published.
    problems = definition_errors(key, default, check_permissions=False)
    if problems:
        raise ValueError(f"流程 {key} 的默认定义有误：" + "；".join(problems))


def definition_errors(key: str, definition: Any, *, check_permissions: bool = True) -> list[str]:
    """What is wrong with a definition, in Chinese (empty when nothing)."""
    if not isinstance(definition, dict):
        return ["定义须为对象"]
    problems = []
    unknown = set(definition) - {"initial", "states", "transitions"}
    if unknown:
        problems.append(f"定义有未知字段 {sorted(unknown)}")
    states = definition.get("states")
    if not isinstance(states, dict) or not states:
        return [*problems, "states 须为非空的 {状态: 名称}"]
    for state, label in states.items():
        if len(state) > STATE_MAX or not state.strip():
            problems.append(f"状态 {state!r} 须为 1 至 {STATE_MAX} 个字符")
        if not isinstance(label, str) or not label.strip():
            problems.append(f"状态 {state!r} 须有名称")

    def is_state(value: Any) -> bool:
        return isinstance(value, str) and value in states

    if not is_state(definition.get("initial")):
        problems.append(f"初始状态 {definition.get('initial')!r} 不在 states 中")
    transitions = definition.get("transitions")
    if not isinstance(transitions, list) or not transitions:
        return [*problems, "transitions 须为非空列表"]
    guards = REGISTRY[key].guards if key in REGISTRY else {}
    names = set()
    for number, t in enumerate(transitions, 1):
        if not isinstance(t, dict):
            problems.append(f"第 {number} 个操作须为对象")
            continue
        name = t.get("name")
        where = f"第 {number} 个操作（{name if isinstance(name, str) and name else '?'}）"
        unknown = set(t) - {"name", "label", "from", "to", "permission", "guards"}
        if unknown:
            problems.append(f"{where}有未知字段 {sorted(unknown)}")
        if not isinstance(name, str) or not name or not isinstance(t.get("label"), str) or not t.get("label"):
            problems.append(f"{where}须有 name 和 label")
        elif len(name) > NAME_MAX:
            problems.append(f"{where}的 name 不能超过 {NAME_MAX} 个字符")
        elif name in names:
            problems.append(f"{where}的 name 重复")
        else:
            names.add(name)
        sources = t.get("from")
        if not isinstance(sources, list) or not sources or not all(is_state(s) for s in sources):
            problems.append(f"{where}的 from 须为已定义状态的列表，收到 {sources!r}")
        if not is_state(t.get("to")):
            problems.append(f"{where}的 to {t.get('to')!r} 不在 states 中")
        named = t.get("guards", [])
        if not isinstance(named, list) or not all(isinstance(g, str) for g in named):
            problems.append(f"{where}的 guards 须为检查名的列表，收到 {named!r}")
        else:
            missing = [g for g in named if g not in guards]
            if missing:
                problems.append(f"{where}的检查 {missing} 不存在，可用 {sorted(guards)}")
        permission = t.get("permission", "")
        if not isinstance(permission, str):
            problems.append(f"{where}的权限须为“应用.权限代码”字符串，收到 {permission!r}")
        elif permission and check_permissions and not _permission_exists(permission):
            problems.append(f"{where}的权限 {permission!r} 不存在")
    return problems


def _permission_exists(dotted: str) -> bool:
    app_label, _, codename = dotted.partition(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists()


def current(key: str) -> Workflow:
    """The latest published version of `key`; the app's declared default becomes version 1 on first use."""
    found = Workflow.objects.filter(key=key).order_by("-version").first()
    if found is None:
        if key not in REGISTRY:
            raise LookupError(f"流程 {key} 未声明")
        found, _ = Workflow.objects.get_or_create(
            key=key, version=1, defaults={"definition": REGISTRY[key].default, "note": "默认定义"}
        )
    return found


@transaction.atomic
def publish(key: str, definition: dict, *, user=None, note: str = "") -> Workflow:
    """A new version of `key`; objects in flight keep theirs. Refused with every problem named."""
    problems = definition_errors(key, definition)
    if not (note or "").strip():
        problems.append("须填写修改说明")
    if problems:
        raise ValidationError({"definition": problems})
    latest = current(key)
    return Workflow.objects.create(
        key=key, version=latest.version + 1, definition=definition, note=note.strip(), published_by=user
    )


def start(obj: WorkflowModel, key: str) -> WorkflowModel:
    """Pin a new object to the current version of `key`, in its initial state (not saved)."""
    workflow = current(key)
    obj.workflow = workflow
    obj.state = workflow.definition["initial"]
    return obj


def state_label(obj: WorkflowModel) -> str:
    return obj.workflow.definition["states"].get(obj.state, obj.state)


@dataclass(frozen=True)
class Option:
    name: str
    label: str
    to: str
    allowed: bool
    reason: str  # why it may not be taken (empty when allowed)


def options(obj: WorkflowModel, user) -> list[Option]:
    """The transitions from the object's state under its own version, each with whether `user` may take it now."""
    result = []
    for t in obj.workflow.definition["transitions"]:
        if obj.state not in t["from"]:
            continue
        _, reason = _refusal(obj, user, t)
        result.append(Option(t["name"], t["label"], t["to"], not reason, reason))
    return result


def _refusal(obj: WorkflowModel, user, t: dict) -> tuple[bool, str]:
    """(forbidden, reason): forbidden when the user lacks the permission; the reason is empty when allowed."""
    permission = t.get("permission", "")
    if permission and not user.has_perm(permission):
        return True, f"无权执行“{t['label']}”"
    guards = REGISTRY.get(obj.workflow.key, Declared({})).guards
    for name in t.get("guards", []):
        guard = guards.get(name)
        if guard is None:  # a version naming a guard the code no longer has: refuse rather than skip a check
            return False, f"检查 {name} 不存在，无法执行“{t['label']}”"
        reason = guard(obj, user)
        if reason:
            return False, reason
    return False, ""


@transaction.atomic
def take(obj: WorkflowModel, name: str, user, reason: str = "") -> WorkflowModel:
    """Take transition `name`: the object's row is locked, its state checked again, the guards run, the state
    saved and the step logged. Refused (nothing changed) with a Chinese message."""
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    obj.state = locked.state
    t = next((t for t in obj.workflow.definition["transitions"] if t["name"] == name), None)
    if t is None:
        raise ValidationError({"transition": f"流程 {obj.workflow} 没有操作 {name}"})
    if obj.state not in t["from"]:
        raise ValidationError({"transition": f"当前状态“{state_label(obj)}”不能执行“{t['label']}”"})
    forbidden, refusal = _refusal(obj, user, t)
    if forbidden:
        raise PermissionDenied(refusal)
    if refusal:
        raise ValidationError({"transition": refusal})
    before = obj.state
    obj.state = t["to"]
    type(obj).objects.filter(pk=obj.pk).update(state=obj.state)
    TransitionLog.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        workflow=obj.workflow,
        transition=name,
        from_state=before,
        to_state=obj.state,
        actor=user if getattr(user, "is_authenticated", False) else None,
        reason=reason,
    )
    return obj


def history(obj: WorkflowModel):
    return TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")


def waiting_for(user, model: type[WorkflowModel], queryset=None) -> list[tuple[WorkflowModel, list[Option]]]:
    """The task inbox: objects of `model` on which `user` may take a transition now."""
    rows = []
    for obj in (queryset if queryset is not None else model.objects.all()).select_related("workflow"):
        allowed = [o for o in options(obj, user) if o.allowed]
        if allowed:
            rows.append((obj, allowed))
    return rows
