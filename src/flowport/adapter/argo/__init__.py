"""The Argo program: walks an `ArgoSpec` template tree under one Prefect flow run.

program.py   what the core drives: main graph, exit handler, report fields, replay
executor.py  templates: steps groups, DAG scheduling, loops, retries, hooks, exit handlers
leaf.py      the leaf task runs: container / script / http / suspend nodes
expr.py      the expression languages (from flowport.lang) as the runtime uses them
(`{{…}}` substitution, loop items and the global variables are flowport.lang.argo_tags)
"""
