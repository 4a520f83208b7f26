"""Argo artifacts without Docker: what `validate` refuses (as Argo's validator, with file:line:col),
the typed records, how the artifact repository is chosen (Argo's order), the local
repository's keys, and the executor's artifact rules against a fake leaf."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from flowport.adapter.argo import artifacts as arts
from flowport.adapter.argo.executor import Executor
from flowport.adapter.artifact_repos import (
    LocalRepository,
    RepositoryError,
    S3Repository,
    resolve_repository,
    secret_env_name,
    secret_value,
)
from flowport.model.argo import RepositoryRef
from testkit.workflows import check_argo


def problems(r) -> list[tuple[int, int, str]]:
    return [(p.mark.line, p.mark.col, p.message) for p in r.problems]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPORT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLOWPORT_CONFIG", raising=False)


def test_artifacts_become_typed_records(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        artifactRepositoryRef: {configMap: my-repos, key: fast}
        arguments:
          artifacts: [{name: seed, raw: {data: "abc"}}]
        templates:
        - name: main
          inputs: {artifacts: [{name: seed}]}
          steps:
          - - {name: gen, template: gen}
          - - name: use
              template: use
              arguments:
                artifacts:
                - {name: in, from: "{{steps.gen.outputs.artifacts.out}}", subPath: a.txt}
                - {name: web, http: {url: "http://127.0.0.1:1/x", headers: [{name: A, value: b}]}}
        - name: gen
          container: {image: busybox}
          outputs:
            artifacts:
            - {name: out, path: /tmp/d, archive: {none: {}}, globalName: g, optional: true}
            - {name: z, path: /tmp/z, archive: {tar: {compressionLevel: 1}}, s3: {key: "k/{{workflow.name}}"}}
        - name: use
          inputs:
            artifacts:
            - {name: in, path: /in, mode: 0755, recurseMode: true}
            - {name: web, path: /web}
          container: {image: busybox}
        """)
    assert r.ok, r.error().render()
    spec = r.workflow.argo
    assert spec.repository_ref == RepositoryRef("my-repos", "fast")
    assert spec.artifacts[0].raw == "abc"
    out, z = spec.templates["gen"].output_artifacts
    assert (out.archive, out.global_name, out.optional) == ("none", "g", True)
    assert (z.archive, z.compression_level, z.s3.key) == ("tar", 1, "k/{{workflow.name}}")
    use_in, web = spec.templates["main"].steps[1][0].artifacts
    assert use_in.from_ == "{{steps.gen.outputs.artifacts.out}}" and use_in.sub_path == "a.txt"
    assert web.http_headers == (("A", "b"),)
    i = spec.templates["use"].input_artifacts[0]
    assert (i.mode, i.recurse_mode, i.path) == (0o755, True, "/in")


def test_validator_refusals_are_located(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - name: use
              template: use
              arguments:
                artifacts:
                - {name: in, from: "{{steps.later.outputs.artifacts.out}}"}
                - {name: nothing}
          - - {name: later, template: gen}
        - name: gen
          container: {image: busybox}
          outputs:
            artifacts:
            - {name: out, path: /a/../../etc}
            - {name: out, path: /b}
            - {name: r, path: /r, raw: {data: x}}
        - name: use
          inputs:
            artifacts:
            - {name: in}
            - {name: f, path: /f, from: "{{workflow.outputs.artifacts.x}}"}
            - {name: g, path: /g, git: {repo: "https://x"}}
          container: {image: busybox}
        - name: d
          dag:
            tasks:
            - {name: A, template: gen}
            - {name: B, template: use, arguments: {artifacts: [{name: in, from: "{{tasks.A.outputs.artifacts.out}}"}]}}
        """)
    found = problems(r)
    msgs = " | ".join(m for *_, m in found)
    assert (13, 13, "no earlier step is named 'later'") in found
    assert (14, 13, "nothing.from, artifact location, or key is required") in found
    assert "attempted to use a path containing '..'" in msgs
    assert (21, 16, "artifact 'out' is declared twice") in found
    assert "raw output artifacts are not supported (as in Argo)" in msgs
    assert (26, 9, "error in inputs.artifacts.in: Artifact 'in' did not specify a path") in found
    assert "inputs.artifacts.f.from not valid in inputs" in msgs
    assert any(p.kind == "unsupported" and "'git'" in p.message and p.mark.line == 28 for p in r.problems)
    assert (34, 58, "missing dependency 'A' for artifact 'in'") in found


def test_steps_template_inputs_take_no_path_and_outputs_need_from(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          inputs: {artifacts: [{name: a, path: /a}]}
          outputs: {artifacts: [{name: b}]}
          steps: [[{name: s, template: t}]]
        - name: t
          container: {image: busybox}
        """)
    found = problems(r)
    assert (8, 36, "inputs.artifacts.a.path only valid in container/script templates") in found
    assert any("output artifact 'b' of a steps or dag template needs `from` or `fromExpression`" == m
               for *_, m in found)


# ------------------------------------------------------------------ repositories


def test_repository_choice_follows_argo(tmp_path):
    local = resolve_repository({})
    assert isinstance(local, LocalRepository) and local.root == (tmp_path / "home" / "artifacts").resolve()
    assert local.key_format == "{{workflow.name}}/{{pod.name}}"
    s3 = {"s3": {"bucket": "b", "endpoint": "127.0.0.1:9", "keyFormat": "x/{{pod.name}}"}}
    config = {"artifactRepository": {"local": {"path": str(tmp_path / "ctrl")}},
              "artifactRepositories": {"artifact-repositories": {
                  "workflows.argoproj.io/default-artifact-repository": "main", "main": s3},
                  "mine": {"fast": "s3: {bucket: f, keyPrefix: pre}"}}}
    chosen = resolve_repository(config)  # the default ConfigMap's annotated key beats artifactRepository
    assert isinstance(chosen, S3Repository) and chosen.bucket == "b" and chosen.key_format == "x/{{pod.name}}"
    assert resolve_repository({"artifactRepository": config["artifactRepository"]}).root == (tmp_path / "ctrl").resolve()
    ref = resolve_repository(config, RepositoryRef("mine", "fast"))  # ConfigMap values are YAML text
    assert ref.bucket == "f" and ref.key_format == "pre/{{workflow.name}}/{{pod.name}}"
    with pytest.raises(RepositoryError, match="failed to resolve artifact repository: key 'nope' of ConfigMap 'mine'"):
        resolve_repository(config, RepositoryRef("mine", "nope"))
    with pytest.raises(RepositoryError, match=r"artifactRepository.gcs: not supported yet: gcs artifact repositories"):
        resolve_repository({"artifactRepository": {"gcs": {"bucket": "x"}}})


def test_secrets_come_from_the_environment_and_never_show(monkeypatch):
    assert secret_env_name("my-minio-cred", "accesskey") == "MY_MINIO_CRED_ACCESSKEY"
    monkeypatch.setenv("MY_MINIO_CRED_ACCESSKEY", "AKIA-secret")
    assert secret_value({"name": "my-minio-cred", "key": "accesskey"}) == "AKIA-secret"
    repo = S3Repository({"bucket": "b", "accessKeySecret": {"name": "my-minio-cred", "key": "accesskey"}})
    assert "AKIA-secret" not in json.dumps(repo.describe())


def test_local_repository_keys_stay_inside(tmp_path):
    repo = LocalRepository(tmp_path / "r")
    with repo.writer("../../wf/pod/a.tgz") as fh:
        fh.write(b"x")
    assert (tmp_path / "r" / "wf" / "pod" / "a.tgz").read_bytes() == b"x"
    assert not list(tmp_path.glob("wf"))


# ------------------------------------------------------------------ executor rules (fake leaf)


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_from_global_and_exit_handler_records_with_a_fake_leaf(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        onExit: bye
        templates:
        - name: main
          steps:
          - - {name: gen, template: gen}
          - - name: use
              template: use
              arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.out}}"}]}
        - name: gen
          container: {image: busybox}
          outputs: {artifacts: [{name: out, path: /o, globalName: shared}]}
        - name: use
          inputs: {artifacts: [{name: in, path: /in}]}
          container: {image: busybox}
        - name: bye
          steps:
          - - name: read
              template: use
              arguments: {artifacts: [{name: in, from: "{{workflow.outputs.artifacts.shared}}"}]}
        """)
    assert r.ok, r.error().render()
    seen = {}

    def leaf(ex, node, tmpl, scope, exit_ctx, on_running):
        if tmpl.name == "gen":
            node.outputs = {"artifacts": [{"name": "out", "key": f"k/{scope['pod.name']}/out.tgz", "archive": None,
                                           "repo": {"type": "local", "path": str(tmp_path)}, "path": "/o",
                                           "globalName": "shared"}]}
            node.finish("Failed", "Error (exit code 1)")  # a failed step's outputs still count
        else:
            seen[node.display_name] = arts.from_text(scope["inputs.artifacts.in"])
            node.finish("Succeeded")

    spec = r.workflow.argo
    main_only = type(spec)(**{**spec.__dict__, "templates": {
        **spec.templates, "main": type(spec.templates["main"])(**{
            **spec.templates["main"].__dict__, "steps": (spec.templates["main"].steps[0],)})}})
    ex = Executor(main_only, workflow_name="wf", uid="u", params={}, run_leaf=leaf)
    ex.run_workflow()
    assert ex.status == "Failed"
    got = seen["read"]
    assert got["name"] == "in" and got["path"] == "/in" and got["key"].startswith("k/wf-gen-")
    assert json.loads(ex.globals()["workflow.outputs.artifacts.shared"])["name"] == "shared"
    assert "path" not in json.loads(ex.globals()["workflow.outputs.artifacts.shared"])
    assert "artifacts" not in json.loads(ex.compute_failures())[0]


def test_unresolvable_from_errors_the_step_optional_drops_it(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: gen, template: noop}
          - - name: use
              template: use
              arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.out}}"}]}
            - name: maybe
              template: use
              arguments: {artifacts: [{name: in, from: "{{steps.gen.outputs.artifacts.out}}", optional: true}]}
        - name: noop
          container: {image: busybox}
        - name: use
          inputs: {artifacts: [{name: in, path: /in, optional: true}]}
          container: {image: busybox}
        """)
    assert r.ok, r.error().render()
    ran = []

    def leaf(ex, node, tmpl, scope, exit_ctx, on_running):
        ran.append((node.display_name, "inputs.artifacts.in" in scope))
        node.finish("Succeeded")

    ex = Executor(r.workflow.argo, workflow_name="wf", uid="u", params={}, run_leaf=leaf)
    ex.run_workflow()
    use = next(n for n in ex.records() if n.display_name == "use")
    assert use.phase == "Error" and use.message == 'Unable to resolve: "steps.gen.outputs.artifacts.out"'
    assert ("maybe", False) in ran


def test_a_missing_required_input_is_not_supplied(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: use
        templates:
        - name: use
          inputs: {artifacts: [{name: in, path: /in}]}
          container: {image: busybox}
        """)
    ex = Executor(r.workflow.argo, workflow_name="wf", uid="u", params={},
                  run_leaf=lambda *a: pytest.fail("must not run"))
    ex.run_workflow()
    assert ex.status == "Error" and ex.message == "inputs.artifacts.in was not supplied"


def test_tar_rewrite_puts_the_single_top_entry_at_the_path():
    src = tarfile.open(fileobj=io.BytesIO(_tar("result.txt", b"hi")), mode="r|")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        arts._rewrite(src, out, "tmp/message", 0o600, False, single=True)
    with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as t:
        (m,) = t.getmembers()
        assert (m.name, m.mode, m.uid, t.extractfile(m).read()) == ("tmp/message", 0o600, 0, b"hi")


def test_conditional_artifact_from_expression_picks_the_branch_that_ran(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: main
        templates:
        - name: main
          steps:
          - - {name: flip, template: flip}
          - - {name: heads, template: heads, when: "{{steps.flip.outputs.result}} == heads"}
            - {name: tails, template: tails, when: "{{steps.flip.outputs.result}} == tails"}
          outputs:
            artifacts:
            - name: result
              fromExpression: "steps.flip.outputs.result == 'heads' ? steps.heads.outputs.artifacts.h : steps.tails.outputs.artifacts.t"
              globalName: coin
        - {name: flip, container: {image: busybox}}
        - name: heads
          container: {image: busybox}
          outputs: {artifacts: [{name: h, path: /h}]}
        - name: tails
          container: {image: busybox}
          outputs: {artifacts: [{name: t, path: /t}]}
        """)
    assert r.ok, r.error().render()

    def leaf(ex, node, tmpl, scope, exit_ctx, on_running):
        if tmpl.name == "flip":
            node.outputs = {"result": "tails"}
        else:
            name = tmpl.output_artifacts[0].name
            node.outputs = {"artifacts": [{"name": name, "key": f"{name}.tgz", "repo": {"type": "local"}, "path": "/"}]}
        node.finish("Succeeded")

    ex = Executor(r.workflow.argo, workflow_name="wf", uid="u", params={}, run_leaf=leaf)
    ex.run_workflow()
    assert ex.status == "Succeeded", ex.message
    root = ex.nodes["wf"]
    (rec,) = root.outputs["artifacts"]
    assert (rec["name"], rec["key"]) == ("result", "t.tgz")
    assert json.loads(ex.globals()["workflow.outputs.artifacts.coin"])["key"] == "t.tgz"


def test_a_missing_repository_ref_ends_the_workflow_in_error(tmp_path):
    r = check_argo(tmp_path, """
        entrypoint: t
        artifactRepositoryRef: {configMap: nowhere, key: k}
        templates:
        - {name: t, container: {image: busybox}}
        """)
    ex = Executor(r.workflow.argo, workflow_name="wf", uid="u", params={},
                  run_leaf=lambda *a: pytest.fail("must not run"))
    ex.run_workflow()
    assert ex.status == "Error"
    assert ex.message == ("failed to resolve artifact repository: key 'k' of ConfigMap 'nowhere' not found in "
                          "config: artifactRepositories")
