"""Graph checks shared by the translators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def find_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path that ends where it starts (`[a, b, a]`), or None.
    Iterative depth-first search, so 5,000-step chains do not hit the recursion limit;
    names missing from `deps` are ignored (reported elsewhere as unknown)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in deps:
        if state.get(start):
            continue
        stack = [(start, iter(deps[start]))]
        trail = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
                continue
            if nxt not in deps:
                continue
            if state.get(nxt) == 1:
                return trail[trail.index(nxt):] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                trail.append(nxt)
                stack.append((nxt, iter(deps[nxt])))
    return None
