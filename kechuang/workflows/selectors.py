"""Reads for the workflow pages: the task inbox, and each workflow's versions with the objects still on them.

A workflow's key names its model ("projects.application" → app label and model name), so this app finds the
objects without importing the apps above it. Which of them a user may see is the app's to say: it registers a
scope per key (`register_scope`, beside `engine.register`); a key without a scope shows nobody anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.models import Permission
from django.db.models import Count, Q, QuerySet

from kechuang.workflows import engine
from kechuang.workflows.models import Workflow


@dataclass(frozen=True)
class Scope:
    visible: Callable[[object], QuerySet]
    take: Callable | None = None


SCOPES: dict[str, Scope] = {}


def register_scope(key: str, visible: Callable[[object], QuerySet], *, take: Callable | None = None) -> None:
    """`visible(user)`: the objects of workflow `key` the user may see (and so act on). `take(obj, name, user,
    reason)`, when given, is how the inbox takes a transition of theirs: the app's service, where taking a step
    also writes something else (a submission's time) or asks more (a return's reasons); engine.take otherwise."""
    SCOPES[key] = Scope(visible, take)


def model_of(key: str):
    """The model whose objects follow workflow `key`, or None when there is none."""
    try:
        return apps.get_model(key)
    except (LookupError, ValueError):
        return None


def visible(key: str, user) -> QuerySet:
    model = model_of(key)
    if model is None:
        raise LookupError(f"流程 {key} 没有对应的数据表")
    scope = SCOPES.get(key)
    return scope.visible(user) if scope is not None else model.objects.none()


def take(key: str, obj, name: str, user, reason: str = ""):
    """Take transition `name` of `obj` as the inbox does: through the app's service when it registered one."""
    scope = SCOPES.get(key)
    if scope is not None and scope.take is not None:
        return scope.take(obj, name, user, reason)
    return engine.take(obj, name, user, reason)


def keys() -> list[str]:
    """Every workflow: declared by an app or published (a published key an app no longer declares included)."""
    return sorted(set(engine.REGISTRY) | set(Workflow.objects.values_list("key", flat=True).distinct()))


# —— The task inbox ——


@dataclass
class InboxRow:
    obj: object
    state: str  # the state's label under the object's version
    options: list  # [engine.Option], each allowed now

    @property
    def party(self):
        """Whose matter it is: the object's enterprise, or its application's (None for a call)."""
        found = getattr(self.obj, "enterprise", None)
        if found is None and hasattr(self.obj, "application"):
            found = getattr(self.obj.application, "enterprise", None)
        return found


@dataclass
class InboxSection:
    key: str
    title: str  # the model's verbose name, e.g. 项目申报
    rows: list[InboxRow]


def _actionable(queryset: QuerySet, user) -> QuerySet:
    """Narrow to objects in a state from which some transition of their version is open to the user's
    permissions: the guards then run only where they can matter."""
    condition = Q(pk__in=[])
    for workflow in Workflow.objects.filter(pk__in=queryset.values("workflow")):
        states = {
            source
            for t in workflow.definition.get("transitions", [])
            if not t.get("permission") or user.has_perm(t["permission"])
            for source in t.get("from", [])
        }
        if states:
            condition |= Q(workflow=workflow, state__in=states)
    return queryset.filter(condition)


def inbox(user) -> list[InboxSection]:
    """Per workflow with a scope, the user's visible objects on which a transition may be taken now."""
    sections = []
    for key in sorted(SCOPES):
        model = model_of(key)
        if model is None:
            continue
        queryset = _actionable(visible(key, user), user).order_by("pk")
        rows = [
            InboxRow(obj, engine.state_label(obj), allowed)
            for obj, allowed in engine.waiting_for(user, model, queryset)
        ]
        if rows:
            sections.append(InboxSection(key, str(model._meta.verbose_name), rows))
    return sections


def inbox_count(user) -> int:
    return sum(len(section.rows) for section in inbox(user))


# —— Workflow versions, for the page where an officer adjusts them ——


@dataclass
class Step:
    name: str
    label: str
    sources: list[str]  # state labels
    to: str
    permission: str
    permission_name: str
    roles: list[str]  # the role groups holding the permission
    guards: list[str]


@dataclass
class Version:
    workflow: Workflow | None  # None: the declared default, not yet made version 1
    number: int
    definition: dict
    objects: int  # how many objects are on this version
    states: list[tuple[str, str, int]] = field(default_factory=list)  # (state, label, objects in it)
    steps: list[Step] = field(default_factory=list)

    @property
    def definition_json(self) -> str:
        return definition_json(self.definition)


@dataclass
class Overview:
    key: str
    title: str
    declared: bool
    versions: list[Version]

    @property
    def latest(self) -> Version | None:
        return self.versions[0] if self.versions else None


TRANSITION_KEYS = ("name", "label", "from", "to", "permission", "guards")


def ordered_states(definition: dict) -> list[str]:
    """The states in the order the work goes: the initial one, then as the transitions reach them, the final
    ones (no way out) last. PostgreSQL's jsonb keeps no key order, so the stored order cannot be relied on."""
    states = definition.get("states") or {}
    order = [definition["initial"]] if definition.get("initial") in states else []
    transitions = [t for t in definition.get("transitions") or [] if isinstance(t, dict)]
    for state in order:  # grows while walked: breadth first
        for t in transitions:
            if state in (t.get("from") or []) and t.get("to") in states and t["to"] not in order:
                order.append(t["to"])
    order += [state for state in states if state not in order]
    sources = {source for t in transitions for source in (t.get("from") or [])}
    return [s for s in order if s in sources] + [s for s in order if s not in sources]  # final states last


def known_states(key: str) -> list[tuple[str, str]]:
    """(state, label) of every state workflow `key` has had: the app's declared default in the order the work
    goes, then any state a later published version added (the first label of a state wins). For the state
    filters of lists, which must offer the states of objects still on older versions."""
    engine.current(key)
    definitions = [engine.REGISTRY[key].default] if key in engine.REGISTRY else []
    definitions += [w.definition for w in Workflow.objects.filter(key=key).order_by("version")]
    seen: dict[str, str] = {}
    for definition in definitions:
        states = definition.get("states") or {}
        for state in ordered_states(definition):
            seen.setdefault(state, states[state])
    return list(seen.items())


def definition_json(definition: dict) -> str:
    """The definition as an officer edits it: keys in a fixed order, states in the order the work goes."""
    states = definition.get("states") or {}
    canonical = {
        "initial": definition.get("initial"),
        "states": {state: states[state] for state in ordered_states(definition)},
        "transitions": [
            {key: t[key] for key in TRANSITION_KEYS if key in t}
            | {k: v for k, v in t.items() if k not in TRANSITION_KEYS}
            for t in definition.get("transitions") or []
        ],
    }
    canonical |= {k: v for k, v in definition.items() if k not in canonical}
    return json.dumps(canonical, ensure_ascii=False, indent=2)


ACTIONS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}


def _permission_names(codes: set[str]) -> dict[str, tuple[str, list[str]]]:
    """{"app.codename": (the permission in Chinese, the role groups that hold it)}."""
    found = {}
    wanted = Q(pk__in=[])
    for code in codes:
        app_label, _, codename = code.partition(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    for p in Permission.objects.filter(wanted).select_related("content_type").prefetch_related("group_set"):
        action, _, _ = p.codename.partition("_")
        model = p.content_type.model_class()
        if action in ACTIONS and model is not None and p.codename == f"{action}_{model._meta.model_name}":
            name = f"{ACTIONS[action]}{model._meta.verbose_name}"
        else:
            name = p.name
        found[f"{p.content_type.app_label}.{p.codename}"] = (name, sorted(g.name for g in p.group_set.all()))
    return found


def _counts(key: str) -> tuple[dict[int, int], dict[tuple[int, str], int]]:
    """Objects per version (workflow pk) and per (version, state)."""
    model = model_of(key)
    if model is None:
        return {}, {}
    per_state = {
        (row["workflow"], row["state"]): row["n"]
        for row in model.objects.values("workflow", "state").annotate(n=Count("pk")).order_by()
    }
    per_version: dict[int, int] = {}
    for (workflow, _), n in per_state.items():
        per_version[workflow] = per_version.get(workflow, 0) + n
    return per_version, per_state


def _version(workflow: Workflow | None, number: int, definition: dict, counts, names) -> Version:
    per_version, per_state = counts
    pk = workflow.pk if workflow else None
    states = definition.get("states", {})
    version = Version(workflow, number, definition, per_version.get(pk, 0))
    version.states = [(s, states[s], per_state.get((pk, s), 0)) for s in ordered_states(definition)]
    for t in definition.get("transitions", []):
        permission = t.get("permission", "")
        name, roles = (
            names.get(permission, ("（权限不存在）", [])) if permission else ("可查看该对象的用户", [])
        )
        version.steps.append(
            Step(
                name=t.get("name", ""),
                label=t.get("label", ""),
                sources=[states.get(s, s) for s in t.get("from", [])],
                to=states.get(t.get("to"), t.get("to", "")),
                permission=permission,
                permission_name=name,
                roles=roles,
                guards=list(t.get("guards", [])),
            )
        )
    return version


def overview(key: str) -> Overview:
    model = model_of(key)
    title = str(model._meta.verbose_name) if model else key
    published = list(Workflow.objects.filter(key=key).select_related("published_by").order_by("-version"))
    definitions = [w.definition for w in published]
    if not published and key in engine.REGISTRY:
        definitions = [engine.REGISTRY[key].default]
    names = _permission_names(
        {t.get("permission") for d in definitions for t in d.get("transitions", []) if t.get("permission")}
    )
    counts = _counts(key)
    if published:
        versions = [_version(w, w.version, w.definition, counts, names) for w in published]
    elif key in engine.REGISTRY:
        versions = [_version(None, 1, engine.REGISTRY[key].default, counts, names)]
    else:
        versions = []
    return Overview(key, title, key in engine.REGISTRY, versions)


def overviews() -> list[Overview]:
    return [overview(key) for key in keys()]


def guard_names(key: str) -> list[str]:
    declared = engine.REGISTRY.get(key)
    return sorted(declared.guards) if declared else []
