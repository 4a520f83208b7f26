"""Parameters: `arguments`, `inputs` and `outputs` (`valueFrom` included)."""

from __future__ import annotations

from typing import Any

from ...model import EnvRef
from ...model.argo import Artifact, OutputParameter, Parameter
from ..fields import IGNORED as IGN
from ..fields import OK, kind_of
from ..fields import UNSUPPORTED as UNS
from ..source import Problem
from .artifacts import read_artifacts
from .document import DocReader, Path_

PARAM_KEYS = {"name": OK, "value": OK, "default": OK, "enum": OK, "description": IGN,
              "globalName": IGN, "valueFrom": OK}
# an input or argument parameter's valueFrom: Argo reads only a ConfigMap key there
PARAM_VALUE_FROM_KEYS = {"configMapKeyRef": OK, "default": OK, "event": UNS, "supplied": UNS, "path": UNS,
                         "jsonPath": UNS, "jqFilter": UNS, "expression": UNS, "parameter": UNS}
CONFIG_MAP_KEY_REF_KEYS = {"name": OK, "key": OK, "optional": OK}
ARGUMENTS_KEYS = INPUTS_KEYS = {"parameters": OK, "artifacts": OK}
OUTPUTS_KEYS = {"parameters": OK, "artifacts": OK, "result": IGN, "exitCode": IGN}
OUTPUT_PARAM_KEYS = {"name": OK, "value": OK, "valueFrom": OK, "globalName": OK, "description": IGN,
                     "default": IGN, "enum": IGN}  # Argo reads an output's default from valueFrom
VALUE_FROM_KEYS = {"path": OK, "default": OK, "expression": OK, "parameter": OK, "supplied": OK,
                   "event": UNS, "jsonPath": UNS, "jqFilter": UNS, "configMapKeyRef": UNS}


def _parameters(d: DocReader, value: Any, path: Path_, *, what: str) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        d.p.error(path, f"{what} must be a list of {{name, value}} mappings, got {kind_of(value)}")
        return ()
    out, seen = [], set()
    for i, item in enumerate(value):
        ipath = (*path, i)
        f = d.fields(item, ipath, PARAM_KEYS, "parameter")
        if "name" not in f:
            if isinstance(item, dict):
                d.p.error(ipath, "a parameter needs a `name`")
            continue
        name = d.string(*f["name"])
        if name is None:
            continue
        if name in seen:
            d.p.error(f["name"][1], f"parameter {name!r} is declared twice")
        seen.add(name)
        val = d.string(*f["value"]) if "value" in f and f["value"][0] is not None else None
        default = d.string(*f["default"]) if "default" in f and f["default"][0] is not None else None
        enum = d.str_list(*f["enum"]) or () if "enum" in f else ()
        config_map = None
        if "valueFrom" in f:
            vf = d.fields(*f["valueFrom"], PARAM_VALUE_FROM_KEYS, "valueFrom")
            if "default" in vf and default is None:
                default = d.string(*vf["default"])
            if "configMapKeyRef" in vf:
                g = d.fields(*vf["configMapKeyRef"], CONFIG_MAP_KEY_REF_KEYS, "configMapKeyRef")
                if "name" in g and "key" in g:
                    config_map = EnvRef("configMap", d.string(*g["name"]) or "", key=d.string(*g["key"]), name=name,
                                        optional=d.boolean(*g["optional"]) if "optional" in g else False)
                else:
                    d.p.error(vf["configMapKeyRef"][1], "configMapKeyRef needs `name` and `key`")
        out.append(Parameter(name, val, default, tuple(enum), config_map))
    return tuple(out)


def read_arguments(d: DocReader, value: Any, path: Path_) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, ARGUMENTS_KEYS, "arguments")
    return _parameters(d, *f["parameters"], what="arguments.parameters") if "parameters" in f else ()


def read_artifacts_of(d: DocReader, value: Any, path: Path_, *, role: str, leaf: bool = True) -> tuple[Artifact, ...]:
    """The `artifacts` list of an `arguments`, `inputs` or `outputs` mapping (its keys were
    checked by the parameter reader of that mapping)."""
    if not isinstance(value, dict) or "artifacts" not in value:
        return ()
    return read_artifacts(d, value["artifacts"], (*path, "artifacts"), role=role, leaf=leaf)


def read_inputs(d: DocReader, value: Any, path: Path_) -> tuple[Parameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, INPUTS_KEYS, "inputs")
    return _parameters(d, *f["parameters"], what="inputs.parameters") if "parameters" in f else ()


def read_outputs(d: DocReader, value: Any, path: Path_, kind: str) -> tuple[OutputParameter, ...]:
    if value is None:
        return ()
    f = d.fields(value, path, OUTPUTS_KEYS,
                 "outputs")
    if "parameters" not in f:
        return ()
    items, ppath = f["parameters"]
    if not isinstance(items, list):
        d.p.error(ppath, f"outputs.parameters must be a list, got {kind_of(items)}")
        return ()
    out = []
    for i, item in enumerate(items):
        ipath = (*ppath, i)
        g = d.fields(item, ipath, OUTPUT_PARAM_KEYS, "output parameter")
        name = d.string(*g["name"]) if "name" in g else None
        if name is None:
            if isinstance(item, dict) and "name" not in g:
                d.p.error(ipath, "an output parameter needs a `name`")
            continue
        op = dict(name=name)
        if "value" in g:
            op["value"] = d.string(*g["value"])
        if "globalName" in g:
            op["global_name"] = d.string(*g["globalName"])
        if "valueFrom" in g:
            vf = d.fields(g["valueFrom"][0], g["valueFrom"][1], VALUE_FROM_KEYS, "valueFrom")
            for key, attr in (("path", "path"), ("default", "default"), ("expression", "expression"),
                              ("parameter", "parameter")):
                if key in vf:
                    op[attr] = d.string(*vf[key])
            if "supplied" in vf:
                op["supplied"] = True
            if "path" in vf and kind not in ("container", "script"):
                d.p.error(vf["path"][1], f"valueFrom.path needs a container or script template, this is a {kind} template")
            if "expression" in vf:
                check_expr(d, vf["expression"][0], vf["expression"][1])
            if not ({"path", "expression", "parameter", "supplied", "default"} & set(vf)):
                d.p.error(g["valueFrom"][1], "valueFrom needs one of path, expression, parameter, default")
        elif "value" not in g:
            d.p.error(ipath, f"output parameter {name!r} needs `value` or `valueFrom`")
        out.append(OutputParameter(**op))
    return tuple(out)


def check_expr(d: DocReader, text: Any, path: Path_) -> None:
    if not isinstance(text, str):
        return
    from ...lang.errors import ExpressionError
    from ...lang.exprlang import compile_expr  # only files with expressions pay its import
    from ...lang.exprlang.functions import check_functions

    try:
        check_functions(compile_expr(text))
    except ExpressionError as exc:
        mark = d.doc.mark_within(path, text, exc.position or 0)
        d.p.add(Problem(f"invalid expression: {exc}", mark, tuple(path)))
