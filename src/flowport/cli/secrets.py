"""Literal secrets of a workflow file kept off the Prefect server's deployment parameters.

`flowport deploy` stores the workflow's YAML text as the deployment parameter `source`,
which the Prefect UI and API show to anyone who can read deployments. Before that, every
literal secret in the text is moved into a Prefect Secret block and replaced by a
placeholder `flowport-secret((<block name>))`; the deployed flow (`entry.py`, on the worker)
puts the values back before it translates the text, so the run sees the file exactly as
written. What counts as a literal secret:

* the string value of a key named like a password or token (`smtp.password`, a mail step's
  `config.password`, an env entry `API_TOKEN: …`), unless it is only references
  (`${SMTP_PASSWORD}`, `$VAR`, `` `cmd` ``, `{{…}}`): those are resolved at run time already;
* an Apprise URL (`slack://T…/B…/…`, `https://hooks.slack.com/…`) or a URL with a password or
  a `?token=`-like value anywhere in a string value (an env value, a command).

The same value standing elsewhere (a command that passes the password again, a comment)
is replaced there too when it is at least 4 characters long; mapping keys are left as
written. Block names: `flowport-<deployment>-<key path>`, e.g. `flowport-etl-smtp-password`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..model.plain import field_names

PLACEHOLDER = re.compile(r"flowport-secret\(\(([a-z0-9-]+)\)\)")
_SECRET_WORDS = r"password|passwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key"
# Key names whose scalar value is a secret (matched at the end of the key, any case).
SECRET_KEY = re.compile(rf"({_SECRET_WORDS})$", re.I)
# A text without any of these has no literal secret: a secret key's name, or a URL's "://",
# must stand in it as written (same words, same case folding), unless a double-quoted escape
# spells it; line folding only adds spaces or line breaks, which neither can contain.
_MAY_HOLD_SECRETS = re.compile(rf"://|\\|{_SECRET_WORDS}", re.I)
# Run-time references: what is left after removing them must be empty for a value to be
# "not literal".
_REFERENCE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|\{\{.*?\}\}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_MIN_ELSEWHERE = 4  # shorter values are replaced only where they are the secret itself
_SCALARS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class SecretError(ValueError):
    pass


def placeholder(name: str) -> str:
    return f"flowport-secret(({name}))"


@dataclass(frozen=True)
class Found:
    """One literal secret: its value, where (key path) and the text span of its scalar."""

    value: str
    where: tuple[str, ...]
    start: int
    end: int


def is_reference(value: str) -> bool:
    return not _REFERENCE.sub("", value).strip()


def secret_urls(value: str) -> list[str]:
    """URLs in `value` that carry a literal secret (Apprise services, passwords, tokens)."""
    from ..notifiers.apprise import url_has_secrets

    out = []
    for url in _URL.findall(value):
        url = url.rstrip(".,;:)]}")
        if not is_reference(url.partition("://")[2]) and url_has_secrets(url):
            out.append(url)
    return out


def _walk(node: Any, where: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...], bool]]:
    """(scalar value node, key path, under a secret-named key) for every scalar value."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "key"
            if isinstance(value, yaml.ScalarNode):
                yield value, (*where, name), bool(SECRET_KEY.search(name))
            else:
                yield from _walk(value, (*where, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            label = str(index)
            if isinstance(item, yaml.MappingNode):  # a Dagu step / Argo template: its name
                label = next((str(v.value) for k, v in item.value
                              if isinstance(k, yaml.ScalarNode) and k.value == "name"
                              and isinstance(v, yaml.ScalarNode)), label)
            if isinstance(item, yaml.ScalarNode):
                yield item, (*where, label), False
            else:
                yield from _walk(item, (*where, label))


def _documents(text: str) -> list[Any]:
    """The composed documents, by the loader's own (libyaml) composer: the pure-Python one
    took 14 s on a 50,000-step file."""
    from ..translators import gc_paused
    from ..translators.source.limits import compose

    with gc_paused():  # as the loader: GC passes over the IR already built tripled the time
        roots, failure = compose(text)
    if failure is not None:
        raise failure
    return roots


def scalar_values(text: str) -> list[tuple[Any, tuple[str, ...], bool]]:
    out = []
    for index, doc in enumerate(_documents(text)):
        if doc is not None:
            out.extend(_walk(doc, (f"doc{index}",) if index else ()))
    return out


def find_secrets(text: str) -> list[Found]:
    """Every literal secret of the YAML text, in text order."""
    if not _MAY_HOLD_SECRETS.search(text):
        return []  # composing a 50,000-step file again took longer than validating it
    found = []
    for node, where, secret_key in scalar_values(text):
        if node.tag not in _SCALARS or not isinstance(node.value, str) or not node.value:
            continue
        start, end = node.start_mark.index, node.end_mark.index
        if secret_key and not is_reference(node.value):
            found.append(Found(node.value, where, start, end))
        elif not secret_key:
            label = where if where and where[-1].lower().endswith("url") else (*where, "url")
            found.extend(Found(url, label, start, end) for url in secret_urls(node.value))
    return found


def _key_spans(text: str) -> list[tuple[int, int]]:
    """Text spans of the mapping keys (a secret inside a key name is left alone)."""
    import yaml

    spans = []

    def walk(node: Any) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                spans.append((key.start_mark.index, key.end_mark.index))
                walk(key)
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    for doc in _documents(text):
        walk(doc)
    return spans


def _block_name(deployment: str, where: tuple[str, ...]) -> str:
    where = tuple(w for w in where if not w.isdigit())  # list positions say little
    raw = "-".join(("flowport", deployment, *where)).lower()
    name = re.sub(r"[^a-z0-9]+", "-", raw).strip("-")
    return name[:100].rstrip("-")


def scrub(text: str, deployment: str) -> tuple[str, dict[str, str]]:
    """(the text with every literal secret replaced by its placeholder, {block name: value}).
    Lossless: `restore(scrubbed, values)` gives back `text` byte for byte."""
    if PLACEHOLDER.search(text):
        raise SecretError("the file already contains flowport-secret((…)) placeholders; "
                          "deploy the original file")
    found = find_secrets(text)
    if not found:
        return text, {}
    names: dict[str, str] = {}  # value -> block name
    for f in found:
        if f.value not in names:
            base = name = _block_name(deployment, f.where)
            n = 2
            while name in names.values():
                name, n = f"{base}-{n}", n + 1
            names[f.value] = name
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, value: str) -> bool:
        i = text.find(value, start, end)
        hit = False
        while i >= 0:
            if all(i + len(value) <= s or i >= e for s, e, _ in spans):
                spans.append((i, i + len(value), names[value]))
                hit = True
            i = text.find(value, i + len(value), end)
        return hit

    for f in sorted(found, key=lambda f: -len(f.value)):
        if not claim(f.start, f.end, f.value) and not any(
                s <= f.start < e or f.start <= s < f.end for s, e, _ in spans):
            raise SecretError(f"{'.'.join(f.where)}: the secret is not written verbatim (escapes "
                              "or line folding); write it on one line, or as ${VAR} from the "
                              "worker's environment")
    spans.extend((start, end, "") for start, end in _key_spans(text))  # keys stay as written
    for value in sorted(names, key=len, reverse=True):
        if len(value) >= _MIN_ELSEWHERE:
            claim(0, len(text), value)  # other values, comments
    spans = [span for span in spans if span[2]]
    out, last = [], 0
    for start, end, name in sorted(spans):
        out += [text[last:start], placeholder(name)]
        last = end
    out.append(text[last:])
    return "".join(out), {name: value for value, name in names.items()}


def restore(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


# ------------------------------------------------------------------ the Prefect server


def save_blocks(values: dict[str, str]) -> None:
    """Create or update one Prefect Secret block per value (PREFECT_API_URL's server)."""
    if not values:
        return
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise SecretError(
            f"the workflow has literal secrets ({', '.join(values)}): they go to Prefect Secret "
            "blocks on the server, so PREFECT_API_URL must be set; or write them as ${VAR} "
            "from the worker's environment")
    for name, value in values.items():
        Secret(value=value).save(name, overwrite=True)


def resolve(text: str) -> str:
    """The workflow text with its placeholders replaced by the Secret blocks' values (on
    the worker). A text without placeholders is returned as is, without asking the server."""
    names = placeholders(text)
    if not names:
        return text
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    values = {}
    # The sync client, not Secret.load: the state hooks call this inside the runner's event loop.
    with get_client(sync_client=True) as client:
        for name in names:
            try:
                doc = client.read_block_document_by_name(name, "secret", include_secrets=True)
            except ObjectNotFound:
                raise SecretError(f"Prefect Secret block {name!r} not found on the server: "
                                  "re-run flowport deploy for this workflow") from None
            value = doc.data.get("value")
            if hasattr(value, "get_secret_value"):
                value = value.get_secret_value()
            values[name] = value if isinstance(value, str) else json.dumps(value)
    return restore(text, values)


def redactor(source: str | None = None) -> Callable[[str], str]:
    """A function masking, in any text (a plan, a report), secret URLs and, when the
    workflow's YAML `source` is given, every literal secret `scrub` would move."""
    from ..notifiers.apprise import REDACTED, redact_url

    secrets = sorted({f.value for f in find_secrets(source)} if source else (), key=len, reverse=True)
    words = [re.compile(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])") for v in secrets]

    def redact(text: str) -> str:
        if "://" not in text and not any(value in text for value in secrets):
            return text  # no secret value and no URL: the common case, kept cheap
        for value, word in zip(secrets, words):
            if value in text:
                masked = redact_url(value) if _URL.fullmatch(value) else REDACTED
                text = text.replace(value, masked) if len(value) >= _MIN_ELSEWHERE else word.sub(masked, text)
        for url in sorted(set(secret_urls(text)), key=len, reverse=True):
            text = text.replace(url, redact_url(url))
        return text

    return redact


# Values that hold no string: returned as they are without looking inside.
_ATOMS = frozenset({int, float, bool, complex, bytes, type(None)})
_SIZED = frozenset({str, tuple, list, dict})  # empty ones (most fields of a step) are skipped too


def redact_strings(obj: Any, redact: Callable[[str], str]) -> Any:
    """`obj` (a Workflow, a dict from to_dict) with every string passed through `redact`;
    objects without a changed string are returned as they are. Dataclasses are copied
    field by field (no __init__/__post_init__ rerun). Every string of a 50,000-step IR
    passes through here, so types are looked up once and atoms skipped without a call."""
    cls = type(obj)
    if cls is str:
        return redact(obj)
    if cls in _ATOMS:
        return obj
    if isinstance(obj, (list, tuple)):
        items = [item if type(item) in _ATOMS else redact_strings(item, redact) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return type(obj)(items) if not hasattr(obj, "_fields") else type(obj)(*items)
    if isinstance(obj, dict):
        pairs = {key: value if type(value) in _ATOMS else redact_strings(value, redact)
                 for key, value in obj.items()}
        return obj if all(pairs[k] is obj[k] for k in obj) else pairs
    if isinstance(obj, str):  # a str subclass (a str enum)
        return redact(obj)
    names = field_names(obj)
    if names is not None:
        changed = {}
        for name in names:
            value = getattr(obj, name)
            kind = type(value)
            if kind in _ATOMS or (kind in _SIZED and not value):  # inline: ~35 fields a step
                continue
            new = redact_strings(value, redact)
            if new is not value:
                changed[name] = new
        if not changed:
            return obj
        clone = copy.copy(obj)
        for name, value in changed.items():
            object.__setattr__(clone, name, value)
        return clone
    return obj
