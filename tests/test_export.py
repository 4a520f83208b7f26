"""`flowport export`: the module it writes is formatted (`ruff format --check`), carries the
YAML's comments and the fields Prefect has no use for as comments, and builds the very IR
the YAML translates to (so it runs the same); what the sdk cannot express is refused with
its location."""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowport.cli.app import app
from flowport.export import export_checked
from flowport.translators import check
from flowport.translators.source import SourceError

DAGU = """\
# Nightly load: extract, then load.
name: nightly-load
description: Nightly load
logDir: /var/log/dagu   # no meaning under Prefect
params:
  - DAY: monday
  - my-size: "3"
env:
  - TARGET: /tmp/out
handlerOn:
  failure:
    command: echo "failed on ${DAY}"   # tell someone
  exit:
    command: echo bye
steps:
  # pull the rows
  - name: extract
    command: echo "rows for ${DAY}"
    output: ROWS
    retryPolicy: {limit: 2, intervalSec: 1}
  - name: load
    depends: [extract]
    script: |
      echo "loading $ROWS"
      echo 'a "quoted" \\ backslash'
    preconditions:
      - condition: "${DAY}"
        expected: "re:^[a-z]+$"
    continueOn: {failure: true}
"""

ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: exit-demo-
  annotations:
    workflows.argoproj.io/description: Exit handler demo
spec:
  entrypoint: main
  onExit: exit-handler   # runs whatever happens
  podGC: {strategy: OnPodCompletion}
  arguments:
    parameters:
      - name: greeting-text
        value: hello
      - name: mode
        value: fast
        enum: [fast, slow]
  templates:
  # the main graph
  - name: main
    dag:
      tasks:
      - {name: A, template: say, arguments: {parameters: [{name: m, value: "{{workflow.parameters.greeting-text}}"}]}}
      - {name: B, template: say, depends: A, arguments: {parameters: [{name: m, value: b}]}}
      - name: C
        template: say
        depends: "A.Failed || B"
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withItems: [x, y]
        hooks:
          exit: {template: say, arguments: {parameters: [{name: m, value: done}]}}
  - name: say
    inputs: {parameters: [{name: m}]}
    retryStrategy: {limit: "2"}
    container:
      image: alpine:3.20
      command: [sh, -c]
      args: ["echo {{inputs.parameters.m}}"]
  - name: exit-handler
    steps:
    - - {name: report, template: say, arguments: {parameters: [{name: m, value: "{{workflow.status}}"}]}}
      - {name: cheer, template: say, when: "{{workflow.status}} == Succeeded", arguments: {parameters: [{name: m, value: yay}]}}
"""


def normalized(value):
    """The IR without source positions (the module's point at Python lines)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, {f.name: normalized(getattr(value, f.name)) for f in dataclasses.fields(value)
                                       if f.name not in ("where", "source_file", "ignored")})
    if isinstance(value, tuple):
        return tuple(normalized(v) for v in value)
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items()}
    return value


def export(tmp_path: Path, text: str, name: str) -> tuple[str, object, object]:
    src = tmp_path / f"{name}.yaml"
    src.write_text(text)
    checked = check(src)
    assert checked.ok, checked.error().render()
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    module_file = out / f"{name}_flow.py"
    module_file.write_text(export_checked(checked, out))
    spec = importlib.util.spec_from_file_location(f"exported_{name}", module_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flows = [v for v in vars(module).values() if hasattr(v, "workflow")]
    called = {id(child) for f in flows for _, child in f.workflow.subdags}
    (flow,) = [f for f in flows if id(f.workflow) not in called]  # the module's main flow
    return module_file.read_text(), flow, checked.workflow


@pytest.mark.parametrize("text,name", [(DAGU, "dagu"), (ARGO, "argo")], ids=["dagu", "argo"])
def test_the_exported_module_builds_the_translated_workflow(tmp_path, text, name):
    source, flow, translated = export(tmp_path, text, name)
    assert normalized(flow.workflow) == normalized(translated)
    assert "import yaml" not in source and "translators" not in source  # no YAML at run time
    compile(source, "flow.py", "exec")


@pytest.mark.parametrize("text,name", [(DAGU, "dagu"), (ARGO, "argo")], ids=["dagu", "argo"])
def test_the_exported_module_is_ruff_formatted(tmp_path, text, name):
    ruff = shutil.which("ruff") or pytest.skip("ruff is a dev dependency (pip install ruff)")
    export(tmp_path, text, name)
    done = subprocess.run([ruff, "format", "--check", "--diff", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dagu_module_reads_as_steps_with_comments_and_typed_parameters(tmp_path):
    source, flow, _ = export(tmp_path, DAGU, "dagu")
    lines = source.splitlines()
    assert lines[0] == "# Exported by `flowport export` from dagu.yaml."
    assert "# not carried over: logDir: no effect under Prefect" in lines
    body = source[source.index("def nightly_load("):]
    assert body.index("# pull the rows") < body.index('extract = sh(') < body.index("script(")  # source order
    assert "after=[extract]" in body and "retries=Retry(limit=2, interval=1.0)" in body
    header = source[:source.index("def nightly_load(")]
    assert header.index("# tell someone") < header.index('on_failure=sh(')
    assert "# Nightly load: extract, then load." in header
    assert 'DAY: str = "monday"' in source and "my_size: int = 3" in source
    assert flow.param_sources == {"DAY": "DAY", "my_size": "my-size"}
    assert flow.parameters.properties["my_size"]["type"] == "integer"


def test_argo_module_reads_as_templates_with_the_exit_handler(tmp_path):
    source, flow, _ = export(tmp_path, ARGO, "argo")
    assert 'on_exit="exit-handler",' in source and "# runs whatever happens" in source
    assert "# not carried over: spec.podGC: Kubernetes-only, no effect on a local run" in source
    assert 'mode: Literal["fast", "slow"] = "fast"' in source and 'greeting_text: str = "hello"' in source
    assert 'task("B", "say", arguments={"m": "b"}, after=["A"])' in source
    assert 'depends="A.Failed || B"' in source and 'items=["x", "y"]' in source
    assert source.index("# the main graph") < source.index('dag(\n        "main"')
    assert flow.name == "exit-demo" and flow.description == "Exit handler demo"


POSITIONAL = """\
name: pos
params: first K=v "x y" `echo 42`  # Dagu numbers positional params among all: 1, K, 3, 4
steps:
  - name: a
    command: echo "$1|$K|$3|$4" > params.txt
"""


def test_string_params_become_flow_parameters_named_as_the_run_core_numbers_them(tmp_path, monkeypatch):
    source, flow, translated = export(tmp_path, POSITIONAL, "pos")
    assert normalized(flow.workflow) == normalized(translated)
    assert "params_text=" in source and 'p_1: str = "first"' in source and 'p_4: str = "`echo 42`"' in source
    assert flow.param_sources == {"p_1": "1", "K": "K", "p_3": "3", "p_4": "4"}
    assert flow.parameters.properties["p_3"]["default"] == "x y"
    seen = {}
    from flowport.adapter import core

    monkeypatch.setattr(core, "execute", lambda wf, options, params: seen.setdefault("params", params))
    flow.fn(p_1="other", p_4="`echo 42`")  # the default is no override: the run evaluates it
    assert seen["params"] == [("1", "other")]
    monkeypatch.undo()
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))
    from test_sdk import drive_inline

    report = drive_inline(flow.workflow, seen["params"])
    assert report.status == "succeeded", report.message
    assert (tmp_path / "params.txt").read_text() == "other|v|x y|42\n"


def test_cli_writes_the_module(tmp_path):
    src = tmp_path / "hello.yaml"
    src.write_text("steps:\n  - name: hi\n    command: echo hi  # say it\n")
    out = tmp_path / "flows" / "hello.py"
    out.parent.mkdir()
    result = CliRunner().invoke(app, ["export", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert 'workdir=".."' in text and "# say it" in text and 'sh("echo hi", name="hi")' in text


def test_the_exported_flow_deploys_from_its_file(tmp_path):
    """What `prefect deploy` and `flow.serve()` load: the module's flow by its entrypoint."""
    from prefect.flows import load_flow_from_entrypoint

    export(tmp_path, DAGU, "dagu")
    sys.path.insert(0, str(tmp_path / "out"))
    try:
        flow = load_flow_from_entrypoint(f"{tmp_path / 'out' / 'dagu_flow.py'}:nightly_load")
    finally:
        sys.path.remove(str(tmp_path / "out"))
    assert flow.name == "nightly-load" and flow.workflow.steps[0].name == "extract"
    deployment = flow.to_deployment(name="nightly")  # what flow.serve() registers
    assert deployment.entrypoint.endswith("dagu_flow.py:nightly_load")
    assert deployment._parameter_openapi_schema.properties["DAY"]["default"] == "monday"


def test_the_examples_in_docs_python_md_are_what_export_writes(tmp_path):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "python.md").read_text()
    yaml_blocks = dict(re_pairs(doc, "export"))
    python_blocks = dict(re_pairs(doc, "exported"))
    assert set(yaml_blocks) == set(python_blocks) == {"nightly.yaml", "exit-handler.yaml"}
    for name, text in yaml_blocks.items():
        src = tmp_path / name
        src.write_text(text)
        checked = check(src)
        assert checked.ok, checked.error().render()
        assert export_checked(checked, tmp_path) == python_blocks[name], f"docs/python.md: {name} is stale"


def re_pairs(doc: str, marker: str):
    import re

    return re.findall(rf"<!-- {marker}: (\S+) -->\n```\w+\n(.*?)```", doc, flags=re.S)


def test_an_argo_entry_input_outside_the_arguments_is_a_flow_parameter(tmp_path):
    """`argo submit -p message=…` feeds the entry template's input although spec.arguments
    does not declare it: the exported flow takes it too, and the arguments stay as written."""
    text = ("apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata: {name: t}\nspec:\n"
            "  entrypoint: main\n  templates:\n  - name: main\n    inputs: {parameters: [{name: message}]}\n"
            "    container: {image: alpine, args: [\"{{inputs.parameters.message}}\"]}\n")
    source, flow, translated = export(tmp_path, text, "entry_input")
    assert normalized(flow.workflow) == normalized(translated) and translated.argo.arguments == ()
    assert "message: str | None = None" in source and "arguments=[]" in source
    assert flow.param_sources == {"message": "message"}


PARENT = """\
name: parent
steps:
  - name: first
    command: echo parent | tee -a calls.txt
  # the sibling file, with params
  - name: call-child
    call: child
    params: "WHO=parent"
    depends: [first]
  - name: fan
    call: local
    parallel: {items: [a, {X: b}], maxConcurrent: 1}
    depends: [call-child]
handlerOn:
  exit:
    call: local
    params: {X: exit}
---
# a local DAG: called by its name
name: local
params: [X: none]
steps:
  - name: say
    command: echo local:$X:$1 >> calls.txt  # $1: a scalar item
"""

CHILD = """\
# the child, in its own file
params: WHO=nobody
steps:
  - name: work
    call: local-of-child
---
name: local-of-child
steps:
  - name: deep
    command: echo child >> calls.txt
"""


def test_sub_dag_calls_export_as_subflows_with_the_children_in_the_module(tmp_path, monkeypatch):
    (tmp_path / "child.yaml").write_text(CHILD)
    source, flow, translated = export(tmp_path, PARENT, "parent")
    assert normalized(flow.workflow) == normalized(translated)  # the children's IR included
    body = source[source.index("def parent("):]
    assert 'subflow(child, name="call-child", params="WHO=parent", after=[first])' in body
    assert 'parallel=["a", \'{"X":"b"}\'],\n        max_concurrent=1,' in body
    assert 'on_exit=subflow(local, params={"X": "exit"})' in source
    # callees first, each once; each document's comments with its own workflow
    assert source.index("def local_of_child(") < source.index("def child(") < source.index("def parent(")
    assert source.count("def local(") == 1
    assert source.index("# the child, in its own file") < source.index("def child(")
    assert source.index("# a local DAG: called by its name") < source.index("def local(")
    assert source.index("# the sibling file, with params") > source.index("def parent(")
    monkeypatch.setenv("FLOWPORT_LOG_DIR", str(tmp_path / "logs"))
    from test_sdk import drive_inline

    report = drive_inline(flow.workflow)
    assert report.status == "succeeded", report.message
    lines = (tmp_path / "calls.txt").read_text().splitlines()
    assert lines[:2] == ["parent", "child"] and lines[-1] == "local:exit:"
    assert sorted(lines[2:4]) == ["local:b:", "local:none:a"]


CALLS_BY_FILE = """\
params: "local a-b"
steps:
  - name: local
    command: echo '["x","y"]'
    output: ITEMS
  - name: by-file
    run: a-b.yaml
    depends: [local]
  - name: fan
    call: a_b
    parallel: ${ITEMS}
    params: [N=1, "B=${ITEM}", "pos"]
    depends: [local]
---
name: a_b
steps:
  - name: s
    command: echo $B
"""


def test_calls_by_file_name_with_items_read_at_run_time_and_clashing_names(tmp_path):
    """V1 `run: a-b.yaml` (the call's name is no workflow's: `dag=`), `parallel: ${ITEMS}`,
    params as a list with a positional one; `a-b` and `a_b` are one Python name, and a step
    variable never hides a workflow's function."""
    (tmp_path / "a-b.yaml").write_text("steps:\n  - name: s\n    command: echo file\n")
    source, flow, translated = export(tmp_path, CALLS_BY_FILE, "calls")
    assert normalized(flow.workflow) == normalized(translated)
    assert 'def a_b_2():' in source and 'subflow(a_b_2, name="by-file", dag="a-b.yaml", after=[local])' in source
    assert 'params=[("N", "1"), ("B", "${ITEM}"), ("", "pos")]' in source and 'parallel="${ITEMS}"' in source
    assert 'def calls(p_1: str = "local", p_2: str = "a-b"):' in source  # named after the file, as Dagu names it
    assert 'param_names={"p_1": "1", "p_2": "2"}' in source


def test_a_module_with_sub_dags_is_ruff_formatted(tmp_path):
    ruff = shutil.which("ruff") or pytest.skip("ruff is a dev dependency (pip install ruff)")
    (tmp_path / "child.yaml").write_text(CHILD)
    export(tmp_path, PARENT, "parent")
    export(tmp_path, POSITIONAL, "pos")
    (tmp_path / "a-b.yaml").write_text("steps:\n  - name: s\n    command: echo file\n")
    export(tmp_path, CALLS_BY_FILE, "calls")
    done = subprocess.run([ruff, "format", "--check", "--diff", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


LOCKED = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: locked-}
spec:
  entrypoint: main
  synchronization:
    mutexes: [{name: whole-run}]
  imagePullSecrets: [{name: regcred}]
  templates:
    - name: main
      synchronization:
        semaphores: [{configMapKeyRef: {name: limits, key: jobs}}]
      inputs:
        parameters:
          - {name: tier, valueFrom: {configMapKeyRef: {name: settings, key: tier}}}
      container:
        image: busybox
        envFrom: [{secretRef: {name: api}, prefix: API_}]
        volumeMounts: [{name: creds, mountPath: /creds}]
  volumes:
    - {name: creds, secret: {secretName: db, items: [{key: password, path: pw, mode: 0400}]}}
"""


def test_locks_secrets_and_config_references_survive_the_export(tmp_path):
    """Synchronization, imagePullSecrets, configMapKeyRef parameters, envFrom and secret
    volumes: the exported module builds the same workflow."""
    source, flow, translated = export(tmp_path, LOCKED, "locked")
    assert "Synchronization(" in source and "EnvRef(" in source
    assert normalized(flow.workflow) == normalized(translated)


def test_an_approval_step_and_the_wait_handler_export(tmp_path):
    text = ("name: appr\nhandlerOn:\n  wait:\n    command: echo waiting\nsteps:\n  - name: ask\n"
            "    command: echo ready\n    approval: {prompt: go?, input: [REASON], required: [REASON]}\n")
    source, flow, translated = export(tmp_path, text, "appr")
    assert "on_wait=sh(" in source and "approval=Approval(" in source
    assert normalized(flow.workflow) == normalized(translated)
