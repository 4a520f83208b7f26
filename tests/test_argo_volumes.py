"""Argo volumes: what the translator keeps (typed Volume/VolumeMount records), what it refuses
with file:line:col and key path, and the host-side rules of runners/volumes.py (names, hostPath
type checks, subPath) — no Docker Engine needed."""

from __future__ import annotations

import os
import textwrap

import pytest

from flowport.adapter.argo.volumes import RunVolumes
from flowport.adapter.runners.volumes import VolumeError, host_path, volume_name
from flowport.model.argo import Volume, VolumeMount
from flowport.translators import check
from testkit.workflows import write_argo



def write(tmp_path, body: str, name: str = "wf.yaml"):
    return write_argo(tmp_path, body, "{generateName: vol-}", name)


def found(r) -> list[tuple[int, int, str, str, str | None, str]]:
    return [(p.mark.line, p.mark.col, p.message, ".".join(map(str, p.path)), p.hint, p.kind) for p in r.problems]


def test_volumes_claims_gc_and_mounts_become_typed_records(tmp_path):
    r = check(write(tmp_path, """
        entrypoint: main
        volumeClaimGC: {strategy: OnWorkflowCompletion}
        volumeClaimTemplates:
        - metadata: {name: work}
          spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
        volumes:
        - {name: scratch, emptyDir: {medium: Memory}}
        - {name: host, hostPath: {path: /tmp/x, type: DirectoryOrCreate}}
        - {name: shared, persistentVolumeClaim: {claimName: "{{workflow.parameters.c}}", readOnly: true}}
        templateDefaults:
          container:
            volumeMounts: [{name: work, mountPath: /work}]
        templates:
        - name: main
          volumes: [{name: own, emptyDir: {}}]
          container:
            image: busybox
            volumeMounts:
            - {name: own, mountPath: /own, subPath: "a/{{inputs.parameters.p}}", readOnly: true}
            - {name: work, mountPath: /work, subPath: w}
        - name: s
          script:
            image: busybox
            source: ls
            volumeMounts: [{name: shared, mountPath: /s, mountPropagation: None}]
        """))
    assert r.ok, r.error().render()
    spec = r.workflow.argo
    assert spec.volume_claim_gc == "OnWorkflowCompletion"
    assert [(v.name, v.source, v.path, v.host_type, v.read_only) for v in spec.volumes] == [
        ("scratch", "emptyDir", None, "", False), ("host", "hostPath", "/tmp/x", "DirectoryOrCreate", False),
        ("shared", "persistentVolumeClaim", "{{workflow.parameters.c}}", "", True),
        ("work", "claimTemplate", None, "", False)]
    main = spec.templates["main"]
    assert [v.name for v in main.volumes] == ["own"]
    # templateDefaults merge volumeMounts by mountPath: the template's /work wins
    assert [(m.name, m.mount_path, m.sub_path, m.read_only) for m in main.volume_mounts] == [
        ("work", "/work", "w", False), ("own", "/own", "a/{{inputs.parameters.p}}", True)]
    assert spec.templates["s"].volume_mounts == (VolumeMount("shared", "/s", where=spec.templates["s"].volume_mounts[0].where),)
    assert any("mountPropagation" in i for i in r.ignored) and any("emptyDir.medium" in i for i in r.ignored)
    assert any("volumeClaimTemplates[0].spec" in i for i in r.ignored)


def test_default_gc_is_on_workflow_success(tmp_path):
    r = check(write(tmp_path, """
        entrypoint: main
        volumeClaimTemplates: [{metadata: {name: work}}]
        templates:
        - {name: main, container: {image: busybox, volumeMounts: [{name: work, mountPath: /w}]}}
        """))
    assert r.ok and r.workflow.argo.volume_claim_gc == "OnWorkflowSuccess"


def test_bad_volumes_and_mounts_are_refused_with_positions(tmp_path):
    r = check(write(tmp_path, """
        entrypoint: main
        volumeClaimGC: {strategy: Always}
        volumeClaimTemplates: [{metadata: {labels: {a: b}}}]
        volumes:
        - {name: a, emptyDir: {}}
        - {name: a, hostPath: {path: /tmp}}
        - {name: rel, hostPath: {path: data, type: Dir}}
        - {name: two, emptyDir: {}, hostPath: {path: /x}}
        - {name: cfg, configMap: {}}
        - {name: nfs, nfs: {server: s, path: /}}
        templates:
        - name: main
          container:
            image: busybox
            volumeMounts:
            - {name: scrach, mountPath: /s}
            - {name: a, mountPath: /a}
            - {name: a, mountPath: /a}
            - {name: a, mountPath: rel}
            - {name: a, mountPath: /b, subPath: ../up}
            - {name: a}
            - {name: cfg, mountPath: /cfg}
            - {name: a, mountPath: /e, subPathExpr: $(X)}
        """))
    assert not r.ok
    got = found(r)
    expect = [
        (6, 29, "volumeClaimGC.strategy must be one of OnWorkflowSuccess, OnWorkflowCompletion, got 'Always'",
         "spec.volumeClaimGC.strategy", None, "error"),
        (7, 26, "volumeClaimTemplates[0].metadata.name is required", "spec.volumeClaimTemplates.0", None, "error"),
        (10, 12, "volume 'a' is declared twice in spec.volumes", "spec.volumes.1.name",
         "volume names are unique within a list", "error"),
        (11, 34, "hostPath path must be absolute, got 'data'", "spec.volumes.2.hostPath.path",
         "Docker binds host folders by their absolute path", "error"),
        (11, 46, "hostPath type must be one of DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, "
         "BlockDevice, got 'Dir'", "spec.volumes.2.hostPath.type", None, "error"),
        (12, 31, "volume 'two' has more than one source: emptyDir, hostPath", "spec.volumes.3.hostPath", None, "error"),
        (13, 28, "a configMap volume needs `name`", "spec.volumes.4.configMap", None, "error"),
        (14, 17, "volume key 'nfs'", "spec.volumes.5.nfs", None, "unsupported"),
        (20, 16, "volume 'scrach' not found in workflow spec", "spec.templates.0.container.volumeMounts.0.name",
         "declare it in spec.volumes, the template's volumes or spec.volumeClaimTemplates", "error"),
        (22, 30, "templates.main.container.volumeMounts[2].mountPath '/a' already mounted in container.volumeMounts.a",
         "spec.templates.0.container.volumeMounts.2.mountPath", None, "error"),
        (23, 30, "mountPath must be an absolute path, got 'rel'", "spec.templates.0.container.volumeMounts.3.mountPath",
         None, "error"),
        (24, 43, "subPath must be a relative path inside the volume, got '../up'",
         "spec.templates.0.container.volumeMounts.4.subPath", None, "error"),
        (25, 9, "a volumeMount needs a `mountPath`", "spec.templates.0.container.volumeMounts.5",
         "where the volume appears in the container", "error"),
        (27, 34, "volumeMount key 'subPathExpr'", "spec.templates.0.container.volumeMounts.7.subPathExpr", None,
         "unsupported"),
    ]
    for line, col, message, path, hint, kind in expect:
        match = [g for g in got if g[2] == message]
        assert match, (message, got)
        g = match[0]
        assert (g[0], g[1], g[3], g[5]) == (line, col, path, kind), g
        if hint:
            assert g[4] == hint
    assert len(got) == len(expect)
    hints = {g[2]: g[4] for g in got}
    assert "secret and configMap volumes" in hints["volume key 'nfs'"]
    # a mount of a refused volume is not also "not found"
    assert not any("'cfg' not found" in g[2] for g in got)
    rendered = r.error().render()
    assert "wf.yaml:20:16: error: volume 'scrach' not found in workflow spec" in rendered


def test_volumes_of_a_workflow_template_ref_merge_by_name(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(textwrap.dedent("""
        apiVersion: argoproj.io/v1alpha1
        kind: WorkflowTemplate
        metadata: {name: base}
        spec:
          entrypoint: main
          volumes: [{name: data, hostPath: {path: /base}}, {name: keep, emptyDir: {}}]
          templates:
          - name: main
            container: {image: busybox, volumeMounts: [{name: data, mountPath: /d}, {name: keep, mountPath: /k}]}
        """).lstrip())
    p = write(tmp_path, "workflowTemplateRef: {name: base}\nvolumes: [{name: data, hostPath: {path: /mine}}]")
    from flowport.translators import check as check_

    r = check_(p, templates=[str(base)])
    assert r.ok, r.error().render()
    assert {v.name: v.path for v in r.workflow.argo.volumes} == {"data": "/mine", "keep": None}


def test_volume_names_follow_dockers_rule():
    assert volume_name("my wf", "work", "abc") == "my-wf-work-abc"
    assert volume_name("-x", "ü") == "x--"
    rv = RunVolumes(spec=None, workflow="vol", run_id="0f3e-12ab-34cd-56ef", keep=False)  # type: ignore[arg-type]
    assert rv.claim_volume("work") == "vol-work-0f3e12ab34cd"


def test_host_path_types_are_checked_as_the_kubelet_does(tmp_path):
    folder, file = tmp_path / "d", tmp_path / "f"
    folder.mkdir()
    file.write_text("x")
    assert host_path(str(folder), "Directory", None) == str(folder)
    assert host_path(str(file), "File", None) == str(file)
    with pytest.raises(VolumeError, match=f"hostPath type check failed: {folder} is not a file"):
        host_path(str(folder), "File", None)
    with pytest.raises(VolumeError, match="is not a directory"):
        host_path(str(tmp_path / "missing"), "Directory", None)
    made = host_path(str(tmp_path / "new" / "deep"), "DirectoryOrCreate", None)
    assert os.path.isdir(made)
    created = host_path(str(tmp_path / "touched"), "FileOrCreate", None)
    assert os.path.isfile(created) and oct(os.stat(created).st_mode & 0o777) == "0o644"
    with pytest.raises(VolumeError):  # FileOrCreate does not create the parent folder
        host_path(str(tmp_path / "no" / "file"), "FileOrCreate", None)
    # a subPath is created in the folder (the kubelet creates a missing one) and stays inside
    assert host_path(str(folder), "", "a/b") == str(folder / "a" / "b") and (folder / "a" / "b").is_dir()
    with pytest.raises(VolumeError, match="leaves its volume"):
        host_path(str(folder), "", "../out")
    with pytest.raises(VolumeError, match="absolute"):
        host_path("relative", "", None)


def test_volume_record_defaults():
    v = Volume("v", "emptyDir")
    assert (v.path, v.host_type, v.read_only) == (None, "", False)
