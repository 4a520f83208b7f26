"""The expression and template languages of Dagu and Argo; pure (standard library and RE2
through google-re2), used by translators and adapter, importing neither. Every failure in
here surfaces as an ExpressionError.

gofmt        Go renderings: %v, json.Marshal/Unmarshal, strconv.Quote/Unquote (once)
durations    Go time.ParseDuration plus bare seconds
paths        jq-style paths (Dagu) and JSONPath (Argo jsonpath())
dagu_vars    Dagu ``${…}`` / ``$NAME`` / backticks, ``params:``, precondition matching
argo_tags    Argo ``{{…}}`` substitution, loop items, withSequence, timestamps, failures
exprlang/    expr-lang (lexer, parser, runtime, builtins, sprig, evaluator)
govaluate    Argo ``when``
depends      Argo ``depends``, and the ``when`` syntax check
expressions  the Argo languages in one import, ``{{=…}}`` rendering
regex        Go regexp on RE2 (linear time): compile, ReplaceAll/Expand, Split, QuoteMeta
errors       ExpressionError (a FlowportError and a ValueError)
"""
