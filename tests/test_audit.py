"""`flowport audit`: every workflow file of a folder classified, features ranked, JSON and a
self-contained HTML page (the browser check is integration/test_audit_page.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from flowport.cli.audit import INVALID, NEEDS, NOT_WORKFLOW, RUNS, run_audit, to_html

ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: w-}}
spec:
  entrypoint: main
  templates:
    - name: main
{body}
"""


# a WorkflowTemplate named `shared` that workflows of the estates refer to
SHARED_TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: shared}
spec:
  entrypoint: main
  templates:
    - name: main
      container: {image: alpine, command: [echo, hi]}
"""


def estate(root: Path) -> Path:
    files = {
        "dagu/ok.yaml": "steps:\n  - name: a\n    command: echo hi\n",
        "dagu/v3.yaml": "steps:\n  - id: a\n    run: echo hi\n",
        "dagu/bad.yaml": "steps:\n  - name: a\n    command: echo hi\n    depends: [nope]\n",
        "argo/daemon.yaml": ARGO.format(body="      daemon: true\n      container: {image: alpine}"),
        "argo/resource.yaml": ARGO.format(body="      resource: {action: create, manifest: x}"),
        "argo/both.yaml": ARGO.format(body="      daemon: true\n      resource: {action: create, manifest: x}"),
        "argo/uses-template.yaml": textwrap.dedent("""\
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata: {generateName: ref-}
            spec:
              workflowTemplateRef: {name: shared}
            """),
        "argo/nested/shared.yaml": SHARED_TEMPLATE,
        "k8s/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        "notes.txt": "not yaml",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_each_file_lands_in_its_class_with_its_dialect_and_problems(tmp_path):
    result = run_audit([estate(tmp_path)], workers=1)
    by_name = {Path(f.file).name: f for f in result.files}
    assert "notes.txt" not in by_name
    assert {n: f.verdict for n, f in by_name.items()} == {
        "ok.yaml": RUNS, "v3.yaml": RUNS, "bad.yaml": INVALID, "daemon.yaml": NEEDS, "resource.yaml": NEEDS,
        "both.yaml": NEEDS, "uses-template.yaml": RUNS,  # its WorkflowTemplate is in the folder
        "shared.yaml": RUNS, "deployment.yaml": NOT_WORKFLOW}
    assert by_name["ok.yaml"].dialect == "dagu-v1" and by_name["v3.yaml"].dialect == "dagu-v3"
    assert by_name["daemon.yaml"].dialect == "argo Workflow"
    assert by_name["shared.yaml"].dialect == "argo WorkflowTemplate"
    problem = by_name["bad.yaml"].problems[0]
    assert (problem["line"], problem["kind"]) == (4, "error") and "nope" in problem["message"]
    assert by_name["both.yaml"].features == ["daemon", "resource"]
    assert result.features() == [("daemon", 2), ("resource", 2)]
    assert result.totals() == {"workflows": 8, RUNS: 4, NEEDS: 3, INVALID: 1, NOT_WORKFLOW: 1}


def test_a_process_pool_gives_the_same_audit(tmp_path):
    root = estate(tmp_path)
    for i in range(60):  # past the size that uses the pool
        (root / "many" / f"d{i}.yaml").parent.mkdir(exist_ok=True)
        (root / "many" / f"d{i}.yaml").write_text(f"steps:\n  - name: s{i}\n    command: echo {i}\n")
    alone, pooled = run_audit([root], workers=1), run_audit([root], workers=2)
    assert pooled.to_dict() == alone.to_dict()


def test_cli_json_and_html(tmp_path):
    root = estate(tmp_path / "estate")
    page = tmp_path / "audit.html"
    done = subprocess.run([sys.executable, "-m", "flowport.cli", "audit", str(root), "--json", "--html", str(page)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["totals"]["workflows"] == 8 and data["features"][0] == {"feature": "daemon", "files": 2}
    html = page.read_text()
    assert "<script src" not in html and "http://" not in html and "https://" not in html  # no network
    assert '"feature": "daemon"' in html
    summary = subprocess.run([sys.executable, "-m", "flowport.cli", "audit", str(root)], capture_output=True,
                             text=True, env={**__import__("os").environ, "COLUMNS": "200"})
    assert "8 workflow file(s): 4 run as is, 3 need an unsupported feature, 1 invalid" in summary.stdout
    missing = subprocess.run([sys.executable, "-m", "flowport.cli", "audit", str(tmp_path / "nope")],
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_html_escapes_what_files_say(tmp_path):
    root = tmp_path / "x"
    root.mkdir()
    (root / "evil.yaml").write_text("steps:\n  - name: a\n    command: echo hi\n    depends: ['</script><b>']\n")
    html = to_html(run_audit([root], workers=1))
    assert "</script><b>" not in html


def test_an_unparsable_template_is_its_own_error_not_every_workflow(tmp_path):
    """A folder with one WorkflowTemplate that does not parse: that file is invalid (once, at
    its line), workflows with no ref or a ref another file resolves run, and only the one
    naming a template nobody readable defines is invalid, pointed at the broken file."""
    files = {
        "broken.yaml": textwrap.dedent("""\
            apiVersion: argoproj.io/v1alpha1
            kind: WorkflowTemplate
            metadata:
              name: only-broken
            spec:
              templates:
                - name: main
                  container: {image: alpine
            """),
        "shared.yaml": SHARED_TEMPLATE,
        "plain.yaml": ARGO.format(body="      container: {image: alpine}"),
        "uses-shared.yaml": ARGO.format(body="      steps:\n        - - {name: c, templateRef: {name: shared, template: main}}"),
        "uses-broken.yaml": ARGO.format(body="      steps:\n        - - {name: c, templateRef: {name: only-broken, template: main}}"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    by_name = {Path(f.file).name: f for f in run_audit([tmp_path], workers=1).files}
    assert {n: f.verdict for n, f in by_name.items()} == {
        "broken.yaml": INVALID, "shared.yaml": RUNS, "plain.yaml": RUNS, "uses-shared.yaml": RUNS,
        "uses-broken.yaml": INVALID}
    [own] = by_name["broken.yaml"].problems
    assert (own["file"], own["line"], own["col"]) == (str(tmp_path / "broken.yaml"), 9, 1)
    [missing] = by_name["uses-broken.yaml"].problems
    assert missing["file"] == str(tmp_path / "uses-broken.yaml") and missing["line"] == 9
    assert "WorkflowTemplate 'only-broken' not found" in missing["message"]
    assert f"{tmp_path / 'broken.yaml'}:9:1" in missing["hint"]
