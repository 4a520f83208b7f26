"""Argo artifacts: a 100 MB file passed output → repository → input by flowport, against
`docker cp` of the same file out of the same container and into the same consumer, in
this run on this Docker Engine.

    python bench/artifacts.py [--mb 100] [--reps 3] [--image busybox]

flowport's path is the one a container node takes (adapter/argo/artifacts.py): `get_archive`
streamed into the local repository, then `put_archive` into a created consumer, twice: with
`archive: {none: {}}` (the bare file, the bytes `docker cp` moves) and with Argo's default
`<name>.tgz` (gzip level 6). The baseline is `docker cp producer:/data/blob DIR && docker cp
DIR/blob consumer:/blob`; the gzip floor is gzip -6 of the same stream alone, which the
default format costs any implementation. The file is half random, half zeros. Reported:
min/median/max seconds, MB/s, flowport's peak RSS (this process: the bytes are streamed,
never held whole), and last `ratio: <flowport/docker cp>` for the same bytes (archive none,
median times); the tgz ratio is printed above it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

# This folder holds docker.py (a bench): keep it off the path so `import docker` is docker-py.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import docker  # noqa: E402

from flowport.adapter.argo import artifacts  # noqa: E402
from flowport.adapter.artifact_repos import LocalRepository  # noqa: E402
from flowport.model.argo import Artifact  # noqa: E402

LABELS = {"flowport.bench": "artifacts"}  # removed by this bench, by id


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f} / median {statistics.median(values):.2f} / max {max(values):.2f}"


def gzip_floor(api, producer: str) -> float:
    """Seconds to gzip (level 6, Argo's default) the artifact's tar stream and drop it: what
    the default `.tgz` costs whoever makes it, Argo's executor included."""
    start = time.perf_counter()
    stream, _ = api.get_archive(producer, "/data/blob", chunk_size=1 << 20)
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in stream:
        z.compress(chunk)
    z.flush()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--image", default="busybox")
    args = ap.parse_args()
    api = docker.from_env().api
    half = args.mb // 2
    mib = 1024 * 1024  # busybox head takes no size suffix
    make = (f"mkdir -p /data && head -c {half * mib} /dev/urandom > /data/blob && "
            f"head -c {(args.mb - half) * mib} /dev/zero >> /data/blob")
    producer = api.create_container(args.image, ["sh", "-c", make], labels=LABELS)["Id"]
    created = [producer]
    times: dict[str, list[float]] = {"none": [], "tar": [], "docker cp": [], "gzip floor": []}
    stored: dict[str, int] = {}
    try:
        api.start(producer)
        api.wait(producer)
        scope = {"workflow.name": "bench", "pod.name": "bench-producer"}
        with tempfile.TemporaryDirectory(prefix="flowport-bench-") as tmp:
            repo = LocalRepository(Path(tmp) / "repo")
            for _ in range(args.reps):  # interleaved, so that load on the host hits all alike
                for archive in ("none", "tar"):
                    art = Artifact(name="blob", path="/data/blob", archive=None if archive == "tar" else "none")
                    consumer = api.create_container(args.image, ["true"], labels=LABELS)["Id"]
                    created.append(consumer)
                    start = time.perf_counter()
                    rec = artifacts.save_one(api, producer, art, scope, lambda: repo)
                    artifacts.load_inputs(api, consumer, [{**rec, "path": "/data/blob"}])
                    times[archive].append(time.perf_counter() - start)
                    stored[archive] = rec["size"]
                    stream, stat = api.get_archive(consumer, "/data/blob")  # the consumer got every byte
                    stream.close()
                    assert stat["size"] == args.mb * mib, stat
                consumer = api.create_container(args.image, ["true"], labels=LABELS)["Id"]
                created.append(consumer)
                start = time.perf_counter()
                subprocess.run(["docker", "cp", f"{producer}:/data/blob", f"{tmp}/blob"], check=True,
                               stdout=subprocess.DEVNULL)
                subprocess.run(["docker", "cp", f"{tmp}/blob", f"{consumer}:/blob"], check=True,
                               stdout=subprocess.DEVNULL)
                times["docker cp"].append(time.perf_counter() - start)
                os.unlink(f"{tmp}/blob")
                times["gzip floor"].append(gzip_floor(api, producer))
    finally:
        for cid in created:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(cid, force=True)
    mb = args.mb
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"artifact: {mb} MB (half random, half zeros), {args.reps} repetitions, seconds")
    print(f"flowport, archive none (stored {stored['none'] / 1e6:.0f} MB): {spread(times['none'])}; "
          f"{mb / med['none']:.0f} MB/s")
    print(f"flowport, default tgz  (stored {stored['tar'] / 1e6:.0f} MB): {spread(times['tar'])}; "
          f"{mb / med['tar']:.0f} MB/s")
    print(f"gzip -6 of the same stream alone:      {spread(times['gzip floor'])}")
    print(f"docker cp out + docker cp in:          {spread(times['docker cp'])}; {mb / med['docker cp']:.0f} MB/s")
    print(f"tgz: ratio {med['tar'] / med['docker cp']:.2f}, of which gzip alone {med['gzip floor'] / med['docker cp']:.2f}")
    print(f"flowport peak RSS: {peak_rss_mb():.0f} MB")
    print(f"ratio: {med['none'] / med['docker cp']:.2f}")


if __name__ == "__main__":
    main()
