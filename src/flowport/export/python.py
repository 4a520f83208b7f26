"""A workflow (the IR a translator made from YAML) as a Python module in the `flowport.sdk`
API: the same IR comes back when the module is imported, so it runs the same.

One statement per Dagu step or Argo template, in the source's order; the YAML's comments
above the statement they precede (or follow, on the same line); parameters as typed flow
parameters; what has no meaning under Prefect (`Workflow.ignored`) as comments.
"""

from __future__ import annotations

import dataclasses
import keyword
import os
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Callable

from ..model import Container, Fanout, Handlers, Http, Mail, Noop, Param, Retry, Shell, Sql, Step, SubDag, Workflow
from ..model.argo import Call, Hook, Loop, Parameter, Template
from ..model.common import Where
from ..lang.dagu_vars import numbered_params
from ..sdk.flow import default_semantics, python_name
from . import layout as L
from .comments import Comment

SDK_CLASSES = {"Approval", "ContinueOn", "DagRetry", "Hook", "Loop", "MailBlock", "MailSettings", "OutputField",
               "OutputParameter", "Parameter", "Precondition", "Repeat", "Retry", "RetryStrategy",
               "Semantics", "Sequence", "SmtpConfig", "Volume", "VolumeMount", "Container", "Http",
               "Mail", "Noop", "Shell", "Sql", "Artifact", "S3Location", "RepositoryRef", "EnvRef",
               "SecretRef", "Fanout", "Synchronization"}
RESERVED = {"workflow", "sh", "script", "container", "http", "mail", "sql", "noop", "suspend", "steps",
            "dag", "call", "task", "hook", "subflow", "pytask", "Field", "Literal", "name", "str", "int", "print", "list", "dict",
            "type", "id", "input", "format", "filter", "map", "open", "range", "set", "tuple", "len", "next",
            "iter", "sum", "min", "max", "all", "any", "hash", "object", "vars", "dir", "help", "exit", "quit",
            } | SDK_CLASSES
LIST_FIELDS = {"preconditions", "declared_outputs", "structured_output"}  # the sdk takes any sequence
HANDLER_KWARGS = {"init": "on_init", "success": "on_success", "failure": "on_failure",
                  "cancel": "on_cancel", "exit": "on_exit", "wait": "on_wait"}


class Unexpressible(Exception):
    """The workflow uses something the sdk cannot express yet; `where` names the field."""

    def __init__(self, message: str, where: Where | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.where, self.hint = where, hint


def module_source(wf: Workflow, *, comments: list[Comment], target_dir: str, params_where: Where | None = None,
                  keys: dict[str, int] | None = None,
                  comments_of: Callable[[Workflow], list[Comment]] | None = None) -> str:
    """The module for `wf`, to be written into `target_dir` (its working dir is relative).
    `keys`: decorator keyword -> the source line of the workflow-level key it stands for,
    so a comment written there goes with it. The child DAGs `wf` calls (Dagu sub-DAGs, from
    the same file or another) are workflows of the same module, defined before their
    callers; `comments_of(child)` gives the comments of a child's document."""
    order = call_order(wf)
    functions = _function_names(order)
    writers = []
    for w in order:
        own = comments if w is wf else (comments_of(w) if comments_of else [])
        writer = _Writer(w, own, target_dir, params_where if w is wf else None, functions)
        for kw, line in (keys or {}).items() if w is wf else ():
            writer.anchors.append((line, f"kw:{kw}"))
        writers.append(writer)
    definitions = [writer.definition() for writer in writers]
    return _module(wf, writers, definitions, functions[id(wf)])


def call_order(wf: Workflow) -> list[Workflow]:
    """`wf` and the workflows it calls, each once, every callee before its callers."""
    out: list[Workflow] = []
    seen: set[int] = set()

    def visit(w: Workflow) -> None:
        if id(w) in seen:
            return
        seen.add(id(w))
        for _, child in w.subdags:
            visit(child)
        out.append(w)

    visit(wf)
    return out


def _function_names(order: list[Workflow]) -> dict[int, str]:
    """A module-level name per workflow: its name as Python, unique, and no parameter's name
    (a parameter would hide the function inside a caller's body)."""
    taken = set(RESERVED) | {python_name(p.name) for w in order for p in w.params} | {
        python_name(name) for w in order if w.params_text is not None for name, _ in numbered_params(w.params_text)}
    names: dict[int, str] = {}
    for w in reversed(order):  # the root first: it keeps its plain name
        base = python_name(w.name)
        name, n = base, 2
        while name in taken or keyword.iskeyword(name):
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        names[id(w)] = name
    return names


def _module(root: Workflow, writers: list["_Writer"], definitions: list[list[str]], main: str) -> str:
    out = [f"# Exported by `flowport export` from {Path(root.source_file).name}."]
    ignored = [line for w in writers for line in w.ignored_lines() if line]
    if ignored:
        out.append("#")
        out.append("# Fields with no meaning under Prefect (the YAML had them):")
        out.extend(dict.fromkeys(ignored))
    out.append("")
    extra = set().union(*(w.extra_imports for w in writers))
    if "Literal" in extra:
        out.append("from typing import Literal")
        out.append("")
    if "Field" in extra:
        out.append("from pydantic import Field")
        out.append("")
    imports = sorted(set().union(*(w.imports for w in writers)))
    out.extend(L.lines(L.Group("from flowport.sdk import (", ")", [L.Item(L.Code(n)) for n in imports]))
               if len("from flowport.sdk import " + ", ".join(imports)) > L.WIDTH
               else ["from flowport.sdk import " + ", ".join(imports)])
    for lines in definitions:
        out += ["", ""]
        out.extend(lines)
    out += ["", "", 'if __name__ == "__main__":', f"    {main}()", ""]
    return "\n".join(out)


class _Writer:
    def __init__(self, wf: Workflow, comments: list[Comment], target_dir: str, params_where: Where | None,
                 functions: dict[int, str]) -> None:
        self.wf, self.target_dir, self.params_where = wf, target_dir, params_where
        self.functions = functions  # id(workflow) -> its function in the module
        self.fn_name = functions[id(wf)]
        self.imports: set[str] = {"workflow"}
        self.extra_imports: set[str] = set()
        self.comments = comments
        self.anchors: list[tuple[int, str]] = []  # (source line, statement key)
        self.variables: dict[str, str] = {}  # step name -> Python variable
        self.defined: set[str] = set()  # steps whose variable exists at this point of the body

    # ------------------------------------------------------------ values

    def value(self, v: Any) -> L.Node:
        if v is None or isinstance(v, bool):
            return L.Code(repr(v))
        if isinstance(v, (int, float)):
            return L.number(v)
        if isinstance(v, str):
            return L.string(v)
        if isinstance(v, tuple):
            return L.Group("(", ")", [L.Item(self.value(x)) for x in v], one_tuple=len(v) == 1)
        if isinstance(v, list):
            return L.Group("[", "]", [L.Item(self.value(x)) for x in v])
        if isinstance(v, dict):
            return L.Group("{", "}", [L.Item(self.value(val), L.flat(self.value(k)) or repr(k), dict_key=True)
                                      for k, val in v.items()])
        if dataclasses.is_dataclass(v):
            name = type(v).__name__
            if name not in SDK_CLASSES:
                raise Unexpressible(f"{name} values have no flowport.sdk form yet", getattr(v, "where", None))
            self.imports.add(name)
            return L.call(name, **{k: self.value(x) for k, x in changed(v).items()})
        raise Unexpressible(f"a {type(v).__name__} value has no Python form here", None)

    def kwargs(self, obj: Any, skip: set[str] = frozenset(), rename: dict[str, str] | None = None) -> dict[str, L.Node]:
        return {(rename or {}).get(k, k): self.value(x) for k, x in changed(obj).items() if k not in skip}

    # ------------------------------------------------------------ Dagu steps

    def step_call(self, step: Step, default_name: str | None = None) -> L.Group:
        try:
            fn, args, kw = self.action(step.action)
        except Unexpressible as exc:
            raise Unexpressible(str(exc), exc.where or step.where, exc.hint) from None
        self.imports.add(fn)
        if step.name != default_name:
            kw = {"name": L.string(step.name), **kw}
        rest = changed(step)
        for key in ("name", "action", "where", "depends", "retry"):
            rest.pop(key, None)
        if step.depends:
            kw["after"] = L.Group("[", "]", [L.Item(self.step_ref(d)) for d in step.depends])
        if step.env:
            kw["env"] = self.pairs(step.env)
            rest.pop("env")
        if step.retry is not None:
            kw["retries"] = (L.number(step.retry.limit) if step.retry == Retry(limit=step.retry.limit)
                             else self.value(step.retry))
        for key, val in rest.items():
            if key in kw or key in ("image",):
                raise Unexpressible(f"step field {key!r} clashes with the action's", step.where)
            kw[key] = self.value(list(val) if key in LIST_FIELDS else val)
        return L.call(fn, *args, **kw)

    def step_ref(self, name: str) -> L.Node:
        var = self.variables.get(name)
        return L.Code(var) if var and name in self.defined else L.string(name)

    def pairs(self, pairs: tuple[tuple[str, str], ...]) -> L.Node:
        """`KEY=VALUE` pairs as a dict when no key repeats (the order is kept either way)."""
        if len({k for k, _ in pairs}) == len(pairs):
            return self.value(dict(pairs))
        return self.value(pairs)

    def action(self, action: Any) -> tuple[str, list[L.Node], dict[str, L.Node]]:
        if isinstance(action, Shell):
            extra = {"shell": self.value(list(action.shell))} if action.shell else {}
            if action.script is not None:
                return "script", [L.string(action.script)], extra
            if action.argv is not None:
                return "sh", [self.value(list(action.argv))], extra
            return "sh", [L.string(action.command or "")], extra
        if isinstance(action, Container):
            return "container", *self.container_args(action, own=("env", "workdir"))
        if isinstance(action, Http):
            return "http", [L.string(action.url)], self.kwargs(action, {"url"}, {"timeout": "request_timeout"})
        if isinstance(action, Mail):
            to = L.string(action.to[0]) if len(action.to) == 1 else self.value(list(action.to))
            return "mail", [to, L.string(action.subject), L.string(action.message)], self.kwargs(
                action, {"to", "subject", "message"})
        if isinstance(action, Sql):
            args = [L.string(action.dsn)] + ([L.string(action.query)] if action.query is not None else [])
            return "sql", args, self.kwargs(action, {"dsn", "query"}, {"timeout": "query_timeout"})
        if isinstance(action, Noop):
            return "noop", [], {}
        if isinstance(action, SubDag):
            return "subflow", *self.subflow_args(action)
        raise Unexpressible(f"a {type(action).__name__} step has no flowport.sdk form yet", getattr(action, "where", None),
                            "keep this workflow as YAML (`flowport run`/`deploy`) for now")

    def subflow_args(self, action: SubDag) -> tuple[list[L.Node], dict[str, L.Node]]:
        """`subflow(child, …)`: the child is the function of its workflow in this module."""
        child = self.wf.subdag(action.dag)
        kw: dict[str, L.Node] = {}
        if action.dag != child.name:
            kw["dag"] = L.string(action.dag)
        if action.params_text is not None:
            kw["params"] = L.string(action.params_text, block=False)
        elif action.params is not None:
            keys = [k for k, _ in action.params]
            plain = all(keys) and len(set(keys)) == len(keys)
            kw["params"] = self.value(dict(action.params) if plain else list(action.params))
        fan = action.parallel
        if fan is not None:
            kw["parallel"] = L.string(fan.source) if fan.source is not None else self.value(list(fan.items))
            if fan.max_concurrent != Fanout().max_concurrent:
                kw["max_concurrent"] = L.number(fan.max_concurrent)
        return [L.Code(self.functions[id(child)])], kw

    def container_args(self, c: Container, own: tuple[str, ...]) -> tuple[list[L.Node], dict[str, L.Node]]:
        args: list[L.Node] = [L.string(c.image)]
        kw: dict[str, L.Node] = {}
        rest = changed(c)
        rest.pop("image", None)
        rest.pop("script", None)
        if "cmd" in rest:
            args.append(self.value(list(c.cmd)) if c.cmd is not None else L.Code("None"))
            rest.pop("cmd")
        for key, val in rest.items():
            name = f"container_{key}" if key in own or key == "name" else key
            if key == "env":
                kw[name] = self.pairs(val)
            else:
                kw[name] = self.value(list(val) if key in ("entrypoint",) and val is not None else val)
        return args, kw

    # ------------------------------------------------------------ Argo templates

    def template_call(self, t: Template) -> L.Group:
        kw: dict[str, L.Node] = {}
        args: list[L.Node] = []
        if t.kind in ("container", "script"):
            assert t.container is not None
            if t.kind == "script":
                args.append(L.string(t.container.script or ""))
                cargs, kw = self.container_args(t.container, own=("volumes",))
                kw = {"image": cargs[0], **({"cmd": cargs[1]} if len(cargs) > 1 else {}), **kw}
            else:
                args, kw = self.container_args(t.container, own=("volumes",))
            fn = t.kind
        elif t.kind == "http":
            assert t.http is not None
            fn, args = "http", [L.string(t.http.url)]
            kw = self.kwargs(t.http, {"url"}, {"timeout": "request_timeout"})
        elif t.kind == "suspend":
            fn = "suspend"
        elif t.kind == "steps":
            fn = "steps"
            args = [L.Group("[", "]", [L.Item(self.group(g)) for g in t.steps])]
        elif t.kind == "dag":
            fn = "dag"
            args = [L.Group("[", "]", [L.Item(self.call_node(c, "task")) for c in t.tasks])]
        else:
            raise Unexpressible(f"a {t.kind} template has no flowport.sdk form yet", t.where)
        self.imports.add(fn)
        name = L.string(t.name)
        if fn == "suspend":
            args = [name] + ([L.string(t.suspend_duration)] if t.suspend_duration is not None else [])
        elif fn in ("steps", "dag"):
            args = [name, *args]
        else:
            kw = {"name": name, **kw}
        rest = changed(t)
        for key in ("name", "kind", "where", "container", "steps", "tasks", "http", "suspend_duration"):
            rest.pop(key, None)
        if "inputs" in rest:
            kw["inputs"] = L.Group("[", "]", [L.Item(L.string(p.name) if p == Parameter(p.name) else self.value(p))
                                             for p in t.inputs])
            rest.pop("inputs")
        for key, val in rest.items():
            kw[key] = self.value(list(val) if isinstance(val, tuple) else val)
        return L.call(fn, *args, **kw)

    def group(self, calls: tuple[Call, ...]) -> L.Node:
        if len(calls) == 1:
            return self.call_node(calls[0], "call")
        return L.Group("[", "]", [L.Item(self.call_node(c, "call")) for c in calls])

    def call_node(self, c: Call, fn: str) -> L.Group:
        self.imports.add(fn)
        kw: dict[str, L.Node] = {}
        rest = changed(c)
        for key in ("name", "template", "where"):
            rest.pop(key, None)
        if "arguments" in rest:
            kw["arguments"] = self.arguments(c.arguments)
            rest.pop("arguments")
        if c.depends is not None:
            names = c.depends.split(" && ")
            if all(re.fullmatch(r"[A-Za-z0-9_-]+", n) and n not in ("true", "false") for n in names):
                kw["after"] = self.value(names)
                rest.pop("depends")
        if c.loop is not None and c.loop == Loop(items=c.loop.items):
            kw["items"] = self.value(list(c.loop.items or ()))
            rest.pop("loop")
        if c.exit_hook is not None:
            kw["on_exit"] = self.hook(c.exit_hook)
            rest.pop("exit_hook")
        if "hooks" in rest:
            kw["hooks"] = L.Group("[", "]", [L.Item(self.hook(h)) for h in c.hooks])
            rest.pop("hooks")
        for key, val in rest.items():
            kw[key] = self.value(val)
        return L.call(fn, L.string(c.name), L.string(c.template), **kw)

    def arguments(self, params: tuple[Parameter, ...]) -> L.Node:
        if all(p == Parameter(p.name, value=p.value) and p.value is not None for p in params):
            return self.value({p.name: p.value for p in params})
        return L.Group("[", "]", [L.Item(self.value(p)) for p in params])

    def hook(self, h: Hook) -> L.Node:
        if h.name == "exit" and not h.arguments and h.expression is None and not getattr(h, "artifacts", ()):
            return L.string(h.template)
        self.imports.add("hook")
        kw: dict[str, L.Node] = {}
        if h.expression is not None:
            kw["expression"] = L.string(h.expression)
        if h.name != "exit":
            kw["name"] = L.string(h.name)
        if h.arguments:
            kw["arguments"] = self.arguments(h.arguments)
        if getattr(h, "artifacts", ()):
            kw["artifacts"] = self.value(list(h.artifacts))
        return L.call("hook", L.string(h.template), **kw)

    # ------------------------------------------------------------ the module

    def definition(self) -> list[str]:
        """The workflow's lines: its comments, `@workflow(…)` and the function."""
        wf = self.wf
        fn_name = self.fn_name
        decorator: dict[str, L.Node] = {}
        statements: list[tuple[str, str | None, L.Node]] = []  # (anchor key, variable, node)
        if wf.argo is None:
            self.variables = {s.name: self.variable(s.name) for s in wf.steps}
            referenced = {d for s in wf.steps for d in s.depends}
            for s in wf.steps:
                key = f"step:{s.name}"
                self.anchor(s.where, key)
                statements.append((key, self.variables[s.name] if s.name in referenced else None, self.step_call(s)))
                self.defined.add(s.name)
            for kind, h in wf.handlers.items():
                key = f"kw:{HANDLER_KWARGS[kind]}"
                self.anchor(h.where, key)
                decorator[HANDLER_KWARGS[kind]] = self.step_call(h, default_name=_handler_name(kind))
        else:
            for t in wf.argo.templates.values():
                key = f"tpl:{t.name}"
                self.anchor(t.where, key)
                statements.append((key, None, self.template_call(t)))
        signature, names, param_kw = self.signature()
        head = self.decorator_kwargs()
        decorator = {**head, **param_kw, **decorator}
        if names:
            decorator["param_names"] = self.value(names)
        docstring = wf.description if _docstring_ok(wf.description) and not self.description_derived() else None
        if wf.description is not None and docstring is None and not self.description_derived():
            decorator["description"] = L.string(wf.description)
        self.decorator_keys = set(decorator)
        placed = self.place_comments()
        return self.assemble(fn_name, decorator, signature, docstring, statements, placed)

    def variable(self, name: str) -> str:
        base = python_name(name).lower()
        var, n = base, 2
        while (var in self.variables.values() or var in RESERVED or var in self.functions.values()
               or keyword.iskeyword(var)):
            var, n = f"{base}_{n}", n + 1
        return var

    def anchor(self, where: Where | None, key: str) -> None:
        if where is not None and where.line > 0 and where.file == self.wf.source_file:
            self.anchors.append((where.line, key))

    def decorator_kwargs(self) -> dict[str, L.Node]:
        wf = self.wf
        kw: dict[str, L.Node] = {"engine": L.string(wf.dialect)}
        workdir = wf.workdir
        if not ("$" in workdir or workdir.startswith("~")):
            rel = os.path.relpath(workdir, self.target_dir)
            if rel != ".":
                kw["workdir"] = L.string(rel)
        else:
            kw["workdir"] = L.string(workdir)
        skip = {"name", "dialect", "source_file", "workdir", "steps", "params", "handlers", "argo",
                "description", "ignored", "semantics", "subdags"}
        if wf.argo is not None:
            spec = wf.argo
            kw = {"engine": kw.pop("engine"), **({"name": L.string(spec.name)} if spec.name else {}), **kw}
            if spec.entrypoint != next(iter(spec.templates), None):
                kw["entrypoint"] = L.string(spec.entrypoint)
            if spec.exit_hook is not None:
                kw["on_exit"] = self.hook(spec.exit_hook)
            if spec.hooks:
                kw["hooks"] = L.Group("[", "]", [L.Item(self.hook(h)) for h in spec.hooks])
            for key, val in changed(spec).items():
                if key in ("entrypoint", "templates", "name", "exit_hook", "hooks", "arguments"):
                    continue
                kw[key] = self.value(dict(val) if key in ("labels", "annotations") else val)
            skip |= {"timeout", "max_active_steps"}  # derived from the spec, as the translator does
        else:
            kw = {"engine": kw.pop("engine"), **kw}
        for key, val in changed(wf).items():
            if key not in skip:
                kw[key] = self.pairs(val) if key == "env" else self.value(val)
        if wf.semantics != default_semantics(wf.dialect):
            kw["semantics"] = self.value(wf.semantics)
        return kw

    def description_derived(self) -> bool:
        """Argo: the description is the `workflows.argoproj.io/description` annotation."""
        if self.wf.argo is None:
            return False
        text = dict(self.wf.argo.annotations).get("workflows.argoproj.io/description")
        return text is not None and text.strip() == self.wf.description

    def signature(self) -> tuple[list[L.Node], dict[str, str], dict[str, L.Node]]:
        """Flow parameters: `name: type = default`; (param_names, extra decorator kwargs)."""
        wf = self.wf
        extra: dict[str, L.Node] = {}
        if wf.argo is not None:
            spec = wf.argo
            declared = [(p.name, p.value, None, p.enum) for p in spec.arguments]
            # `argo submit -p NAME=…` may also give the entry template an input that
            # spec.arguments does not declare: a flow parameter too, but no argument
            entry = spec.templates.get(spec.entrypoint)
            inputs = [p.name for p in (entry.inputs if entry else ())
                      if p.name not in {a.name for a in spec.arguments}]
            declared += [(name, None, None, ()) for name in inputs]
            if inputs or any(p.default is not None for p in spec.arguments):
                if spec.arguments:
                    self.imports.add("Parameter")
                extra["arguments"] = L.Group("[", "]", [L.Item(self.value(p)) for p in spec.arguments])
        elif wf.params_text is not None:
            declared = [(name, value, None, ()) for name, value in numbered_params(wf.params_text)]
        else:
            declared = [(p.name, p.default, p.description, ()) for p in wf.params]
        names: dict[str, str] = {}
        out: list[L.Node] = []
        for source, default, description, enum in declared:
            py = python_name(source)
            if py in names or py in (n for n in names.values()):
                raise Unexpressible(f"parameters {names.get(py, py)!r} and {source!r} are one Python name {py!r}",
                                    self.params_where)
            if py != source:
                names[py] = source
            if enum:
                self.extra_imports.add("Literal")
                kind = "Literal[" + ", ".join(L.flat(L.string(e)) or "" for e in enum) + "]"
            elif default is not None and re.fullmatch(r"-?[1-9][0-9]{0,17}|0", default):
                kind = "int"
            else:
                kind = "str"
            if default is None:
                kind += " | None"
            value: L.Node = L.Code("None") if default is None else (
                L.Code(default) if kind == "int" else L.string(default, block=False))
            if description is not None:
                self.extra_imports.add("Field")
                value = L.call("Field", value, description=L.string(description, block=False))
            text = L.flat(value)
            out.append(L.Code(f"{py}: {kind} = {text}") if text is not None else value)
        return out, names, extra

    def place_comments(self) -> dict[str, list[str]]:
        """Each YAML comment → the statement it belongs to: a comment on its own line → the
        next statement; one after a value → the statement holding that line. Comments before
        the first statement → "header"; the ignored fields → "ignored"."""
        placed: dict[str, list[str]] = {}
        anchors = sorted(self.anchors)
        for c in self.comments:
            text = f"# {c.text}".rstrip() if c.text else "#"
            if not anchors or c.line < anchors[0][0]:
                key = "header"
            elif c.inline:
                key = next((k for line, k in reversed(anchors) if line <= c.line), anchors[0][1])
            else:
                key = next((k for line, k in anchors if line > c.line), anchors[-1][1])
            if key.startswith("kw:") and key[3:] not in self.decorator_keys:
                key = "header"  # a workflow-level key the decorator does not repeat
            placed.setdefault(key, []).append(text)
        for item in self.wf.ignored:
            _, _, what = item.partition(": ") if item.startswith(self.wf.source_file) else ("", "", item)
            placed.setdefault("ignored", []).append(f"# not carried over: {what}")
        return placed

    def ignored_lines(self) -> list[str]:
        return self.placed.get("ignored", [])

    def assemble(self, fn_name: str, decorator: dict[str, L.Node], signature: list[L.Node],
                 docstring: str | None, statements: list, placed: dict[str, list[str]]) -> list[str]:
        self.placed = placed
        out = list(placed.get("header", []))
        items = [L.Item(L.string(self.wf.name))] if self.wf.argo is None else []
        for key, node in decorator.items():
            items.append(L.Item(node, key, placed.get(f"kw:{key}", [])))
        out.extend(L.lines(L.Group("workflow(", ")", items), 0, "@"))
        out.extend(L.lines(L.Group(f"def {fn_name}(", "):", [L.Item(p) for p in signature])))
        if docstring is not None:
            out.append(f'    """{docstring}"""')
        for key, var, node in statements:
            out.extend("    " + c for c in placed.get(key, []))
            out.extend(L.lines(node, 1, f"{var} = " if var else ""))
        if not statements:
            out.append("    pass")
        return out


def changed(obj: Any) -> dict[str, Any]:
    """The dataclass fields of `obj` that differ from their defaults (`where` aside)."""
    out = {}
    for f in fields(obj):
        if f.name == "where":
            continue
        value = getattr(obj, f.name)
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            out[f.name] = value
            continue
        if value != default or type(value) is not type(default):
            out[f.name] = value
    return out


def _handler_name(kind: str) -> str:
    from ..model import HANDLER_NODE_NAMES

    return HANDLER_NODE_NAMES[kind]


def _docstring_ok(text: str | None) -> bool:
    return (text is not None and "\n" not in text and text == text.strip() and text != ""
            and '"' not in text and "\\" not in text)
