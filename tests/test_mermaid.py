"""`flowport plan --mermaid`: the graph as Mermaid, handlers and exit hooks apart."""

from __future__ import annotations

import subprocess
import sys

from flowport.adapter.artifacts import render_markdown
from flowport.adapter.mermaid import mermaid
from flowport.adapter.report import RunReport
from flowport.translators import load_text

DAG = """\
name: m
steps:
  - name: extract
    command: echo 1
  - name: "say \\"hi\\" <b>"
    command: echo 2
    depends: [extract]
handlerOn:
  success: {command: echo ok}
  failure: {command: echo no}
  exit: {command: echo bye}
"""

ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: m}
spec:
  entrypoint: main
  onExit: bye
  hooks:
    running: {expression: workflow.status == "Running", template: note}
  templates:
    - name: main
      dag:
        tasks:
          - {name: A, template: echo}
          - {name: B, template: inner, depends: A}
          - {name: C, template: echo, depends: "A.Succeeded && B", when: "1 == 1"}
    - name: inner
      steps:
        - - {name: x, template: echo}
          - {name: y, template: echo}
        - - {name: z, template: echo}
    - name: echo
      container: {image: alpine, command: [echo]}
    - name: note
      container: {image: alpine, command: [echo]}
    - name: bye
      container: {image: alpine, command: [echo]}
"""


def test_dagu_steps_edges_and_handlers_apart():
    text = mermaid(load_text(DAG, "m.yaml"))
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n1["extract"]' in lines and '  n2["say #quot;hi#quot; #lt;b#gt;"]' in lines  # quotes escaped
    assert "  n1 --> n2" in lines
    start = lines.index('  subgraph handlers["handlerOn (by the final status, then exit)"]')
    assert lines[start + 1:start + 4] == ['    n3("onSuccess")', '    n4("onFailure")', '    n5("onExit")']
    assert "    n3 -.-> n5" in lines and "    n4 -.-> n5" in lines
    assert "  n2 -.-> handlers" in lines  # after the last step


def test_argo_dag_steps_subgraphs_and_lifecycle_apart():
    lines = mermaid(load_text(ARGO, "m.yaml")).splitlines()
    assert '  subgraph t1["main (dag)"]' in lines
    ids = {line.split('["')[0].strip(): line for line in lines if "→" in line}
    by_label = {line.split('"')[1]: line.strip().split("[")[0].split("{")[0] for line in lines if "→" in line}
    a, b, c = by_label["A → echo"], by_label["B → inner"], by_label["C → echo (when)"]
    assert f"    {a} --> {b}" in lines and f"    {a} --> {c}" in lines and f"    {b} --> {c}" in lines
    assert any(line.strip() == 'subgraph t2["inner (steps)"]' for line in lines)
    x, y, z = by_label["x → echo"], by_label["y → echo"], by_label["z → echo"]
    assert any(line.strip() == f"{x} --> {z}" for line in lines) and any(line.strip() == f"{y} --> {z}" for line in lines)
    assert '  subgraph lifecycle["exit handler and hooks (apart from the entrypoint)"]' in lines
    assert any('("onExit")' in line for line in lines) and any("hooks.running" in line for line in lines)
    assert "  t1 -.-> lifecycle" in lines
    assert ids  # labels carry the called template


def test_plan_mermaid_and_the_run_artifact(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(DAG)
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "plan", "--mermaid", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == mermaid(load_text(DAG, str(path)))
    report = RunReport(workflow="m", dialect="dagu-v1", status="succeeded", message=None, started_at=None,
                       finished_at=None, params={}, nodes=[], outputs={})
    markdown = render_markdown(report, graph=done.stdout)
    assert "## Graph\n\n```mermaid\nflowchart TD\n" in markdown
