"""The hand-written Prefect flow bench/server.py deploys as the baseline: the same work as the
flowport workflow it is compared with (one task running `sh -c 'echo one'`, its output line
in the task log), written the way a Prefect user would."""

import subprocess

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner


@task(name="one", cache_policy=NO_CACHE, persist_result=False)
def one() -> None:
    done = subprocess.run(["sh", "-c", "echo one"], capture_output=True, text=True, check=True)
    get_run_logger().info(done.stdout.strip())


@flow(name="hand-written", task_runner=ThreadPoolTaskRunner(), persist_result=False)
def hand_written() -> None:
    one.submit().result()
