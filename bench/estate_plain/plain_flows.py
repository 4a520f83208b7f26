"""The plain Prefect flows bench/estate.py runs as the baseline: the same work as the two
flowport workflows it compares them with, written the way a Prefect user would.

* `plain-dagu`: three tasks in a row, each running `sh -c 'echo …'` (as Dagu's `command:`
  steps), the output line in the task log;
* `plain-argo`: two tasks in a row, each running a `busybox` container `echo …` on the
  Docker Engine (create, start, wait, logs, remove: what a container step does), labelled
  as flowport labels its containers so a cleanup by label finds them.
"""

import subprocess

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

LABELS = {"flowport.managed": "true", "flowport.workflow": "bench-estate-plain"}


@task(cache_policy=NO_CACHE, persist_result=False)
def shell(command: str) -> str:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    get_run_logger().info(done.stdout.strip())
    return done.stdout


@task(cache_policy=NO_CACHE, persist_result=False)
def container(message: str) -> str:
    import docker

    api = docker.from_env().api
    cid = api.create_container("busybox", command=["echo", message], labels=LABELS)["Id"]
    try:
        api.start(cid)
        code = api.wait(cid)["StatusCode"]
        out = api.logs(cid).decode()
    finally:
        api.remove_container(cid, force=True)
    if code:
        raise RuntimeError(f"container exited {code}")
    get_run_logger().info(out.strip())
    return out


@flow(name="plain-dagu", task_runner=ThreadPoolTaskRunner(), persist_result=False)
def plain_dagu() -> None:
    first = shell.submit('echo "extract 2026-01-01"')
    second = shell.submit("echo transform", wait_for=[first])
    shell.submit("echo load", wait_for=[second]).result()


@flow(name="plain-argo", task_runner=ThreadPoolTaskRunner(), persist_result=False)
def plain_argo() -> None:
    first = container.submit("a hello")
    container.submit("b", wait_for=[first]).result()
