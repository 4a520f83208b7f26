"""Helpers shared by tests/, integration/ and bench/: process checks and waits
(`testkit.procs`), real local servers on 127.0.0.1 (`testkit.servers`: SMTP needs
aiosmtpd, imported only there), reading run reports and logs (`testkit.reports`) and
workflow texts (`testkit.workflows`).

pytest puts this folder's parent (the repo root, beside conftest.py) on sys.path; the bench/
and integration/ scripts insert it themselves."""
