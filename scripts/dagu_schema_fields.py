"""Derive the field paths of Dagu's DAG JSON schema (schemas/dag.schema.json in dagucloud/dagu)
for tests/data/dagu_schema_fields.txt. Only the names are kept, never the schema's text.

    git -C DAGU show COMMIT:internal/cmn/schema/dag.schema.json > /tmp/dag.schema.json
    python3 scripts/dagu_schema_fields.py /tmp/dag.schema.json COMMIT > tests/data/dagu_schema_fields.txt

Paths: every DAG field (`name`), its sub-fields (`smtp.host`), every step field
(`steps[].run`) and theirs (`steps[].retry_policy.limit`), and the docker executor's config
(`steps[].with(type=docker).volumes`); `[]` marks a list item. A handler
is a step (`handler_on.exit` is listed, its fields are the step's). Sub-fields of a step or a
handler are not walked again below a field (`foreach.steps`), and deeper levels are left out:
a field's class decides for what it contains.
"""

from __future__ import annotations

import json
import sys


def main(schema_file: str, commit: str) -> None:
    schema = json.load(open(schema_file))
    defs = schema.get("definitions", {})

    def resolve(node: dict, outer: frozenset = frozenset()) -> tuple[dict, dict, set]:
        """(properties of node's mapping forms, of its list items' mapping forms, refs met)"""
        props: dict = {}
        items: dict = {}
        refs: set = set()
        stack = [(node, outer)]
        while stack:
            n, seen = stack.pop()
            if not isinstance(n, dict):
                continue
            ref = n.get("$ref")
            if ref:
                name = ref.rsplit("/", 1)[-1]
                refs.add(name)
                if name not in seen:
                    stack.append((defs.get(name, {}), seen | {name}))
            for key in ("allOf", "oneOf", "anyOf"):
                stack.extend((sub, seen) for sub in n.get(key, []))
            if isinstance(n.get("items"), dict):
                item_props, _, item_refs = resolve(n["items"], seen)
                items.update(item_props)
                refs |= item_refs
            props.update(n.get("properties", {}))
        return props, items, refs

    out: list[str] = []
    steps = {"step", "handlerStep", "stepItem", "foreachBodyStep"}

    def walk(props: dict, prefix: str, depth: int) -> None:
        for key in sorted(props):
            sub_props, item_props, refs = resolve(props[key])
            path = f"{prefix}{key}"
            out.append(path)
            if refs & steps:
                continue  # a step (or list of steps): its fields are listed once, under steps[]
            if depth < 2:
                walk(sub_props, path + ".", depth + 1)
                walk(item_props, path + "[].", depth + 1)

    docker = resolve({"$ref": "#/definitions/dockerExecutorConfig"})[0]
    walk(resolve(schema)[0], "", 1)
    walk(resolve({"$ref": "#/definitions/step"})[0], "steps[].", 1)
    walk(docker, "steps[].with(type=docker).", 2)  # the executor config whose fields Dagu documents
    print(f"# Field paths of Dagu's DAG schema: dagucloud/dagu {commit}, schemas/dag.schema.json")
    print("# derived by scripts/dagu_schema_fields.py (names only); checked by tests/test_dagu_schema_fields.py")
    for path in out:
        print(path)


if __name__ == "__main__":
    main(*sys.argv[1:3])
