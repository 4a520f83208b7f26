"""The Argo program: walks an `ArgoSpec` template tree under one Prefect flow run.

program.py   what the core drives: main graph, exit handler, report fields, replay
executor.py  the Executor core: nodes, scopes/globals, execute, inputs, outputs, the workflow's
             phase and exit handler; composed from the mixins below
steps.py     steps templates: groups in order, steps of a group in parallel, failFast
dag.py       DAG templates: depends scheduling, target, parallelism, failFast, the DAG's phase
retries.py   retryStrategy: limit, policy, expression, backoff
calls.py     one step or task: loops (withItems/withParam/withSequence), when, arguments
hooks.py     lifecycle hooks of steps/tasks and of the workflow, exit handlers as nodes
nodes.py     phases, the node record, threads, steps.*/tasks.* variables (shared helpers)
leaf.py      the leaf task runs: container / script / http / suspend nodes
expr.py      the expression languages (from flowport.lang) as the runtime uses them
(`{{…}}` substitution, loop items and the global variables are flowport.lang.argo_tags)
"""
