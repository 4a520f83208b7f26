"""The container runner against a real Docker Engine (local busybox/argosay stand-ins)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from flowport.adapter.runners.base import TIMEOUT_EXIT_CODE, StopToken
from flowport.adapter.runners.docker import (
    MANAGED_LABEL,
    _managed,
    cleanup,
    remove_container,
    run_container,
    shared_client,
    start_service_container,
    stop_run_containers,
)
from flowport.adapter.runners.images import ImageMap, load_image_map
from flowport.model import Container

BUSYBOX = "busybox:latest"
ARGOSAY = "argoproj/argosay:v2"  # ENTRYPOINT /argosay
MISSING = "flowport-test/not-here:never"

pytestmark = pytest.mark.usefixtures("docker_engine")


class Lines:
    """A LineSink that records (stream, line)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.event = threading.Event()

    def __call__(self, stream: str, line: str) -> None:
        self.got.append((stream, line))
        self.event.set()

    def of(self, stream: str) -> list[str]:
        return [line for s, line in self.got if s == stream]


def run(spec: Container, labels, tmp_path, sink=None, **kw):
    kw.setdefault("env", {})
    kw.setdefault("stop", None)
    return run_container(spec, sink=sink or Lines(), labels=labels, host_dir=str(tmp_path), **kw)


def sh(script: str, **kw) -> Container:
    return Container(image=BUSYBOX, cmd=("sh", "-c", script), **kw)


# ---------------------------------------------------------------- basics

@pytest.mark.parametrize("code", [0, 3])
def test_exit_code(code, run_labels, tmp_path):
    result = run(sh(f"exit {code}"), run_labels, tmp_path)
    assert result.exit_code == code
    assert result.ok is (code == 0)
    assert (result.error is None) if code == 0 else result.error == "exit status 3"


def test_stdout_and_stderr_stay_apart(run_labels, tmp_path):
    sink, out, err = Lines(), io.StringIO(), io.StringIO()
    result = run(sh("echo one; echo oops >&2; printf 'two\\nlast-no-newline'"), run_labels, tmp_path,
                 sink=sink, stdout_file=out, stderr_file=err)
    assert result.exit_code == 0
    assert result.stdout == "one\ntwo\nlast-no-newline"
    assert sink.of("stdout") == ["one", "two", "last-no-newline"]
    assert sink.of("stderr") == ["oops"]
    assert out.getvalue() == "one\ntwo\nlast-no-newline\n"
    assert err.getvalue() == "oops\n"


def test_env_merges_and_the_container_env_wins(run_labels, tmp_path):
    spec = sh('echo "$A $B $C"', env=(("B", "own"), ("C", "own-c")))
    result = run(spec, run_labels, tmp_path, env={"A": "run-a", "B": "run-b"})
    assert result.stdout.strip() == "run-a own own-c"


def test_relative_bind_volume_and_read_only(run_labels, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.txt").write_text("from host\n")
    spec = sh("cat /data/in.txt; echo written > /data/out.txt", volumes=("./data:/data",))
    result = run(spec, run_labels, tmp_path)
    assert result.exit_code == 0, result.error
    assert result.stdout == "from host\n"
    assert (tmp_path / "data" / "out.txt").read_text() == "written\n"

    sink = Lines()
    ro = run(sh("echo nope > /data/ro.txt", volumes=("data/:/data:ro",)), run_labels, tmp_path, sink=sink)
    assert ro.exit_code not in (0, None)
    assert any("Read-only file system" in line for line in sink.of("stderr"))
    assert not (tmp_path / "data" / "ro.txt").exists()


def test_workdir_and_user(run_labels, tmp_path):
    result = run(sh("pwd; id -u; id -g", workdir="/tmp", user="1234:5678"), run_labels, tmp_path)
    assert result.stdout.split() == ["/tmp", "1234", "5678"]


def test_entrypoint_and_cmd_semantics(run_labels, tmp_path):
    # cmd alone keeps the image ENTRYPOINT (Dagu command, Argo args): /argosay echo hello
    assert run(Container(image=ARGOSAY, cmd=("echo", "hello")), run_labels, tmp_path).stdout == "hello\n"
    # entrypoint replaces the image's and drops its CMD (Argo command without args)
    assert run(Container(image=BUSYBOX, entrypoint=("echo", "only")), run_labels, tmp_path).stdout == "only\n"
    # entrypoint + cmd: both as given
    both = Container(image=ARGOSAY, entrypoint=("echo",), cmd=("a", "b"))
    assert run(both, run_labels, tmp_path).stdout == "a b\n"
    # neither: the image defaults (busybox CMD sh with no stdin exits 0)
    assert run(Container(image=BUSYBOX), run_labels, tmp_path).exit_code == 0


def test_script_is_mounted_and_appended_to_cmd(run_labels, tmp_path):
    spec = Container(image=BUSYBOX, entrypoint=("sh",), script='echo "running $0"\necho line2\n', user="1000")
    result = run(spec, run_labels, tmp_path)
    assert result.exit_code == 0, result.error
    assert result.stdout == "running /argo/staging/script\nline2\n"
    # args come before the script path; the file is read-only
    spec = Container(image=BUSYBOX, entrypoint=("sh",), cmd=("-e",), script="echo x >> $0")
    assert run(spec, run_labels, tmp_path).exit_code != 0


def test_labels_are_set(run_labels, run_id, tmp_path, containers_of):
    spec = sh("true", keep=True)
    run(spec, run_labels, tmp_path)
    (summary,) = containers_of(run_id)
    labels = summary["Labels"]
    assert labels[MANAGED_LABEL] == "true"
    assert labels["flowport.run-id"] == run_id and labels["flowport.step"] == "step"


# ---------------------------------------------------------------- ending early

def test_timeout_stops_the_container(run_labels, run_id, tmp_path, containers_of):
    started = time.monotonic()
    result = run(sh("echo before; sleep 30"), run_labels, tmp_path, timeout=1, grace=1)
    assert time.monotonic() - started < 10
    assert result.timed_out and result.exit_code == TIMEOUT_EXIT_CODE
    assert "timed out" in result.error
    assert result.stdout == "before\n"
    assert containers_of(run_id) == []


def test_stop_token_stops_and_removes(run_labels, run_id, tmp_path, containers_of):
    token, sink, results = StopToken(grace=1), Lines(), []
    worker = threading.Thread(target=lambda: results.append(
        run(sh("echo started; sleep 30"), run_labels, tmp_path, sink=sink, stop=token, grace=1)))
    started = time.monotonic()
    worker.start()
    assert sink.event.wait(20)
    token.stop()
    worker.join(20)
    assert time.monotonic() - started < 15
    (result,) = results
    assert result.stopped and not result.ok
    assert containers_of(run_id) == []


def test_graceful_stop_lets_the_container_clean_up(run_labels, tmp_path):
    token, sink, results = StopToken(grace=5), Lines(), []
    script = "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 1; done"
    worker = threading.Thread(target=lambda: results.append(
        run(sh(script), run_labels, tmp_path, sink=sink, stop=token, grace=5)))
    worker.start()
    assert sink.event.wait(20)
    token.stop()
    worker.join(20)
    (result,) = results
    assert result.stopped and result.exit_code == 7
    assert result.stdout == "ready\ngot TERM\n"


def test_stopped_before_start_creates_nothing(run_labels, run_id, tmp_path, containers_of):
    token = StopToken()
    token.requested.set()
    result = run(sh("echo no"), run_labels, tmp_path, stop=token)
    assert result.stopped and result.exit_code is None
    assert containers_of(run_id) == []


def test_keep_keeps_the_container(run_labels, run_id, tmp_path, containers_of):
    result = run(sh("echo kept", keep=True, name=f"{run_id}-kept"), run_labels, tmp_path)
    assert result.ok
    (summary,) = containers_of(run_id)
    assert summary["State"] == "exited" and summary["Names"] == [f"/{run_id}-kept"]
    assert cleanup(run_id) == [f"{run_id}-kept"]
    assert containers_of(run_id) == []


# ---------------------------------------------------------------- images and the daemon

def test_missing_image_with_pull_never_is_a_clear_error(run_labels, run_id, tmp_path, containers_of):
    result = run(Container(image=MISSING, pull_policy="never"), run_labels, tmp_path)
    assert result.exit_code is None
    assert result.error == f"image {MISSING!r} not found locally and the pull policy is 'never'"
    assert containers_of(run_id) == []


def test_missing_image_that_cannot_be_pulled(run_labels, tmp_path):
    sink = Lines()
    result = run(Container(image=MISSING), run_labels, tmp_path, sink=sink)
    assert result.exit_code is None
    assert result.error.startswith(f"image {MISSING!r} not found locally and could not be pulled: ")
    assert sink.of("stderr") == [f"pulling {MISSING}"]


def test_daemon_down_is_a_result_not_an_exception(monkeypatch, run_labels, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    result = run(sh("true"), run_labels, tmp_path)
    assert result.exit_code is None and not result.ok
    assert result.error.startswith("Docker Engine unreachable (unix:///nonexistent.sock): ")
    assert stop_run_containers("any-run") == []  # best effort, no exception either


def test_image_map_resolution():
    images = ImageMap({
        "busybox": "mirror.local:5000/busybox",
        "python:3.11": "mirror.local:5000/python:3.11-slim",
        "docker.io/library/debian": "mirror.local:5000/debian:pinned",
    })
    assert images.resolve("busybox") == "mirror.local:5000/busybox"
    assert images.resolve("busybox:1.36") == "mirror.local:5000/busybox:1.36"
    assert images.resolve("docker.io/library/busybox:1.36") == "mirror.local:5000/busybox:1.36"
    assert images.resolve("python:3.11") == "mirror.local:5000/python:3.11-slim"
    assert images.resolve("python:3.12") == "python:3.12"  # tagged key: that tag only
    assert images.resolve("debian:bookworm") == "mirror.local:5000/debian:pinned"
    assert images.resolve("alpine") == "alpine"


def test_image_map_precedence(monkeypatch, tmp_path):
    config = tmp_path / "flowport.yaml"
    config.write_text("images:\n  a: file-a\n  b: file-b\n  c: file-c\n")
    monkeypatch.setenv("FLOWPORT_IMAGES", "b=env-b, c=env-c")
    images = load_image_map(str(config), ["c=cli-c"])
    assert [images.resolve(x) for x in "abcd"] == ["file-a", "env-b", "cli-c", "d"]
    with pytest.raises(ValueError, match="NAME=MIRROR"):
        load_image_map(None, ["no-equals-sign"])


def test_image_override_is_used_to_run(run_labels, tmp_path, monkeypatch):
    images = ImageMap({"flowport-test/mirrored": BUSYBOX})
    spec = Container(image="flowport-test/mirrored:1.0", cmd=("echo", "via mirror"), pull_policy="never")
    assert run(spec, run_labels, tmp_path, images=images).stdout == "via mirror\n"
    monkeypatch.setenv("FLOWPORT_IMAGES", f"flowport-test/from-env={BUSYBOX}")
    spec = Container(image="flowport-test/from-env", cmd=("echo", "via env"), pull_policy="never")
    assert run(spec, run_labels, tmp_path).stdout == "via env\n"


# ---------------------------------------------------------------- service containers, cleanup

def test_exec_in_a_service_container(run_labels, run_id, tmp_path, containers_of):
    service = Container(image=BUSYBOX, env=(("SERVICE", "yes"),))
    cid = start_service_container(service, labels=run_labels, host_dir=str(tmp_path), env={"RUN": "r"})
    try:
        step = Container(image="", exec_in=cid, cmd=("sh", "-c", 'echo "$SERVICE $RUN $STEP"; pwd; echo e >&2; exit 3'),
                         env=(("STEP", "s"),), workdir="/tmp")
        sink = Lines()
        result = run(step, run_labels, tmp_path, sink=sink, env={"RUN": "r2"})
        assert result.exit_code == 3
        assert result.stdout == "yes r2 s\n/tmp\n"
        assert sink.of("stderr") == ["e"]

        timed = run(Container(image="", exec_in=cid, cmd=("sleep", "30")), run_labels, tmp_path, timeout=1, grace=1)
        assert timed.timed_out and timed.exit_code == TIMEOUT_EXIT_CODE
        assert [c["State"] for c in containers_of(run_id)] == ["running"]  # the service lives on
        ps = run(Container(image="", exec_in=cid, cmd=("ps", "-o", "args")), run_labels, tmp_path)
        assert "sleep 30" not in ps.stdout  # the timed-out exec was killed, not abandoned
    finally:
        remove_container(cid)
    assert containers_of(run_id) == []
    missing = run(Container(image="", exec_in=cid, cmd=("true",)), run_labels, tmp_path)
    assert missing.exit_code is None and "not found" in missing.error


def test_stop_run_containers(run_labels, run_id, tmp_path, containers_of):
    def service(**kw) -> str:
        return start_service_container(Container(image=BUSYBOX, **kw), labels=run_labels,
                                       host_dir=str(tmp_path), env={})

    plain, kept, spared = service(), service(keep=True), service()
    started = time.monotonic()
    names = stop_run_containers(run_id, grace=5, spare=[spared[:12]])
    assert time.monotonic() - started < 5  # the keep-alive loop ends on SIGTERM at once
    assert len(names) == 2
    states = {c["Id"]: c["State"] for c in containers_of(run_id)}
    assert states == {kept: "exited", spared: "running"}
    assert plain not in states


def test_cleanup_by_label(tmp_path, containers_of):
    first, second = "test-cleanup-a", "test-cleanup-b"
    cleanup(first), cleanup(second)
    for rid, count in ((first, 2), (second, 1)):
        for _ in range(count):
            run(sh("true", keep=True), {"flowport.run-id": rid, "flowport.step": "s"}, tmp_path)
    # Without a run id it matches every flowport container (not called here: other runs
    # may share this daemon).
    everything = {c["Id"] for c in _managed(shared_client().api, None)}
    assert {c["Id"] for c in containers_of(first) + containers_of(second)} <= everything
    assert len(cleanup(first)) == 2
    assert containers_of(first) == [] and len(containers_of(second)) == 1
    assert len(cleanup(second)) == 1 and containers_of(second) == []


# ---------------------------------------------------------------- concurrency

def test_twenty_parallel_steps(run_labels, run_id, tmp_path, containers_of):
    results: dict[int, object] = {}

    def one(i: int) -> None:
        results[i] = run(sh(f"echo step-{i}; echo err-{i} >&2"), {**run_labels, "flowport.step": f"s{i}"}, tmp_path)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == list(range(20))
    for i, result in results.items():
        assert result.ok, result.error
        assert result.stdout == f"step-{i}\n"
    assert containers_of(run_id) == []
