"""The command line and what sits with it: the only places besides tests that translate YAML.

app          validate, plan, run, deploy, serve, cleanup (typer); --version
server_cmd   `flowport server start|stop|status`, the spinner while the local server starts
params       -p names checked against the workflow's (did-you-mean, --strict)
helptext     help without type tags, counted nouns
views        plan, live progress and summary on a terminal (views_argo: the Argo forms)
deploy       workflow files → Prefect deployments (specs, schedules, prefect.yaml, serve)
deploy_cmd   the deploy/serve commands
entry        the static flow every deployment runs (YAML text → workflow → the run core)
"""

from .app import app, main

__all__ = ["app", "main"]
