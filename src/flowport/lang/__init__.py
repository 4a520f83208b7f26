"""The expression and template languages of Dagu and Argo; pure (standard library only), used
by translators and adapter, importing neither.

gofmt        Go renderings: %v, json.Marshal/Unmarshal, strconv.Quote/Unquote (once)
durations    Go time.ParseDuration plus bare seconds
paths        jq-style paths (Dagu) and JSONPath (Argo jsonpath())
dagu_vars    Dagu ``${…}`` / ``$NAME`` / backticks, ``params:``, precondition matching
argo_tags    Argo ``{{…}}`` substitution, loop items, withSequence, timestamps, failures
exprlang/    expr-lang (lexer, parser, runtime, builtins, sprig, evaluator)
govaluate    Argo ``when``
depends      Argo ``depends``, and the ``when`` syntax check
expressions  the Argo languages in one import, ``{{=…}}`` rendering
regex        Go (RE2) patterns for Python re
errors       ExpressionError (a FlowportError and a ValueError)
"""
