"""The Argo Workflows runtime: walks an `ArgoSpec` template tree under one Prefect flow run.

engine.py    the Prefect flow (signals, cancel watcher, final state, report)
executor.py  templates: steps groups, DAG scheduling, loops, retries, hooks, exit handlers
leaf.py      the Prefect task runs: container / script / http / suspend nodes
expr.py      the expression languages (from flowport.lang) as the runtime uses them
(`{{…}}` substitution, loop items and the global variables are flowport.lang.argo_tags)
"""
