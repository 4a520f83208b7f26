"""Notification latency: from the call that sends to the moment the local receiver has it.

    python bench/notify.py [--n 20] [--only json,smtp,...]

Receivers are real servers on 127.0.0.1 (testkit/servers.py). Each path sends 1 + --n
times; the figure is the median over the last n of (arrival time at the receiver − time the
send was started), with p90, max and the first send beside it. Apprise loads all its plugins
on first use (a few hundred ms); the bench preloads them first, as the engine should at run
start (flowport.notifiers.apprise.preload), and prints how long that took. Baselines
measured in the same run: a bare urllib POST for the Apprise path and a bare smtplib
exchange for the SMTP paths, so the ratio shows what flowport (+ Apprise) adds. Goals:
json:// < 100 ms, SMTP < 200 ms. Exit code 0 whatever the figures (a benchmark, not a test).

Probes are plain callables (`Probe.send`), so an engine-level path — a run whose final
state triggers dispatch() — can be added to build_probes() later and is timed the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testkit.servers import HttpReceiver, SmtpServer, self_signed_cert  # noqa: E402

from flowport.notifiers.apprise import preload  # noqa: E402
from flowport.notifiers.policy import NotifyRule, dispatch  # noqa: E402
from flowport.notifiers.smtp import MailMessage, SmtpSettings, send_mail  # noqa: E402

SUMMARY = {"workflow": "bench", "status": "failed", "duration_seconds": 12.5,
           "failed_nodes": ["extract"], "message": "exit code 2"}
MAIL = MailMessage("flowport@example.com", ("ops@example.com", "dev@example.com"),
                   "bench (failed)", "Status: failed\nFailed nodes: extract")


@dataclass
class Probe:
    name: str
    send: Callable[[], None]  # starts one delivery; returns when the sender is done
    receiver: object  # has .clear(), .wait_for(n) -> items with .received_at
    goal_ms: float | None = None
    baseline: str | None = None  # name of the path this one is compared with


def measure(probe: Probe, n: int) -> tuple[float, list[float]]:
    """Latencies in ms (receiver arrival − send start): the first send of this path and n
    more."""
    latencies = []
    for _ in range(n + 1):
        probe.receiver.clear()
        started = time.perf_counter()
        probe.send()
        arrived = probe.receiver.wait_for(1, timeout=10)[0].received_at
        latencies.append((arrived - started) * 1000)
    return latencies[0], latencies[1:]


def build_probes(http: HttpReceiver, smtp: SmtpServer, tls_smtp: SmtpServer,
                ca_file: str) -> list[Probe]:
    rules = [NotifyRule(http.url(), frozenset({"failure"}))]
    plain = SmtpSettings(smtp.host, smtp.port)
    starttls = SmtpSettings(tls_smtp.host, tls_smtp.port, security="starttls", ca_file=ca_file)
    payload = json.dumps({"title": "bench: failed", "message": "x"}).encode()

    def bare_post() -> None:
        request = urllib.request.Request(http.url("http"), payload,
                                         {"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()

    def bare_smtp() -> None:
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost") as client:
            client.sendmail(MAIL.sender, list(MAIL.to), b"Subject: x\r\n\r\nbody\r\n")

    return [
        Probe("http POST (urllib, baseline)", bare_post, http),
        Probe("dispatch -> json://", lambda: dispatch(rules, SUMMARY), http, 100,
             "http POST (urllib, baseline)"),
        Probe("smtplib (baseline)", bare_smtp, smtp),
        Probe("send_mail plain", lambda: send_mail(plain, MAIL), smtp, 200, "smtplib (baseline)"),
        Probe("send_mail STARTTLS", lambda: send_mail(starttls, MAIL), tls_smtp, 200,
             "smtplib (baseline)"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="sends per path (default 20)")
    parser.add_argument("--only", default="", help="comma-separated name fragments")
    args = parser.parse_args()

    started = time.perf_counter()
    preload()  # what the engine can do at run start; otherwise the first alert pays for it
    print(f"Apprise plugin preload: {(time.perf_counter() - started) * 1000:.0f} ms (once per "
          "process; 'first' below is the first send after it)")
    with tempfile.TemporaryDirectory() as tmp, HttpReceiver() as http, \
            SmtpServer("plain") as smtp, \
            SmtpServer("starttls", cert=(cert := self_signed_cert(tmp))) as tls_smtp:
        probes = build_probes(http, smtp, tls_smtp, str(cert[0]))
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        chosen = [p for p in probes if not wanted or any(w in p.name for w in wanted)]
        needed = {p.baseline for p in chosen}
        chosen = [p for p in probes if p in chosen or p.name in needed]
        medians: dict[str, float] = {}
        print(f"{'path':32} {'n':>3} {'median':>9} {'p90':>9} {'max':>9} {'first':>9}  goal")
        for probe in chosen:
            first, lat = measure(probe, args.n)
            lat.sort()
            medians[probe.name] = median = statistics.median(lat)
            p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))]
            goal = ""
            if probe.goal_ms is not None:
                goal = f"< {probe.goal_ms:g} ms {'met' if median < probe.goal_ms else 'MISSED'}"
            if probe.baseline in medians:
                goal += f", {median / medians[probe.baseline]:.1f}x baseline"
            print(f"{probe.name:32} {len(lat):>3} {median:>6.1f} ms {p90:>6.1f} ms "
                  f"{lat[-1]:>6.1f} ms {first:>6.1f} ms  {goal}")
        if not wanted or any(w in "engine" for w in wanted):
            engine_latency(http, smtp, max(3, args.n // 4), Path(tmp))
    return 0


def _arrival_wall(received_at: float) -> float:
    """The receivers stamp perf_counter(); the run's times are wall-clock."""
    return time.time() - (time.perf_counter() - received_at)


def engine_latency(http: HttpReceiver, smtp: SmtpServer, n: int, tmp: Path) -> None:
    """Whole path: a flowport run ends; `--notify json://` fires from Prefect's state hook
    (timed from the final state's timestamp) and the Dagu info mail is sent after the
    handlers (timed from the moment the run's status was final)."""
    from datetime import datetime

    from prefect.client.orchestration import get_client

    from flowport.adapter import prefect_api, run
    from flowport.adapter.options import RunOptions
    from flowport.notifiers.policy import NotifyConfig, parse_notify_option
    from flowport.translators import load

    dag = tmp / "notified.yaml"
    dag.write_text(f'smtp: {{host: "{smtp.host}", port: "{smtp.port}"}}\n'
                   "mailOn: {success: true}\ninfoMail: {from: a@example.com, to: b@example.com}\n"
                   "steps:\n  - command: 'true'\n")
    workflow = load(dag)
    options = RunOptions(notify=NotifyConfig(rules=(parse_notify_option(http.url() + " on=success"),)))
    hook_ms, mail_ms = [], []
    with prefect_api():
        for _ in range(n + 1):
            http.clear()
            smtp.clear()
            report = run(workflow, options=options)
            [request], [mail] = http.wait_for(1, timeout=10), smtp.wait_for(1, timeout=10)
            with get_client(sync_client=True) as client:
                final = client.read_flow_run(report.run_id).state.timestamp.timestamp()
            hook_ms.append((_arrival_wall(request.received_at) - final) * 1000)
            finished = datetime.fromisoformat(report.finished_at).timestamp()
            mail_ms.append((_arrival_wall(mail.received_at) - finished) * 1000)
    for name, lat, goal in (("run final state -> json:// alert", hook_ms[1:], 100),
                            ("run status final -> Dagu info mail", mail_ms[1:], 200)):
        median = statistics.median(lat)
        print(f"{name:36} {len(lat):>3} {median:>6.1f} ms (max {max(lat):.1f} ms, first run "
              f"{(hook_ms if 'json' in name else mail_ms)[0]:.1f} ms)  < {goal} ms "
              f"{'met' if median < goal else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
