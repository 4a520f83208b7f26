"""One Argo document being read: the translation state it belongs to, and the reader that
reads its keys the Argo way (exact, case-sensitive keys: Argo's are JSON field names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...model import Where
from ...model.argo import Template
from ..fields import OK, Reader
from ..source import Document, Problems, format_path

if TYPE_CHECKING:
    from .refs import Library

Path_ = tuple
K8S = "Kubernetes-only, no effect on a local run"


TEMPLATE_REF_KEYS = {"name": OK, "template": OK, "clusterScope": OK}

def is_argo(data: object) -> bool:
    return isinstance(data, dict) and str(data.get("apiVersion", "")).startswith("argoproj.io")


class Translation:
    """The state of translating one workflow: its problems, ignored keys, the templates
    read so far and the `templateRef`s still to import."""

    def __init__(self, doc: Document, library: Library) -> None:
        self.doc = doc
        self.library = library
        self.problems = Problems(doc)
        self.ignored: list[str] = []
        self.templates: dict[str, Template] = {}
        self.pending_refs: list[tuple[Any, str, str, Path_]] = []  # (DocReader, wt, template, path)
        self.extra: list[Any] = []  # DocReaders of other documents: their problems join at the end
        self.artifacts: tuple[Any, ...] = ()  # spec.arguments.artifacts
        self.repository_ref: Any = None  # spec.artifactRepositoryRef
        self.volume_names: set[str] = set()  # spec.volumes and claims: what a volumeMount may name

    def where(self, doc: Document, path: Path_) -> Where:
        m = doc.mark(path)
        return Where(m.file, m.line, m.col)


class DocReader(Reader):
    """One document being read: its problems, and the template namespace it lives in."""

    yaml_text = True  # Argo parameter values are AnyString: `value: 3` and `value: true` are text

    def __init__(self, cx: Translation, doc: Document, prefix: str = "") -> None:
        p = cx.problems if doc is cx.doc and not prefix else Problems(doc)
        super().__init__(p, cx.ignored)
        self.cx = cx
        self.doc = doc
        self.prefix = prefix  # "" for the workflow itself, "<WorkflowTemplate>/" for imports
        self.p = p
        if p is not cx.problems:
            cx.extra.append(self)

    def where(self, path: Path_) -> Where:
        return self.cx.where(self.doc, path)

    def name_of(self, template: str) -> str:
        return self.prefix + template

    def unsupported_hint(self, raw: Any, what: str) -> str | None:
        if what == "artifact":
            return "flowport reads and writes artifacts as raw, http and s3 (or the artifact repository); see docs/argo.md"
        if what == "volume":
            return ("only emptyDir, hostPath, persistentVolumeClaim, secret and configMap volumes exist on the "
                    "local Docker Engine; see docs/argo.md")
        return "flowport runs containers on the local Docker Engine; see docs/argo.md"

    def ignored_note(self, kpath: Path_, raw: Any, what: str) -> str:
        note = "Argo drops `hooks` written on a template (hooks belong on steps/tasks or spec)" \
            if raw == "hooks" and what == "template" else K8S
        if what == "output parameter" and raw in ("default", "enum"):
            note = "no effect on an output (its default is `valueFrom.default`)"
        return f"{self.doc.file}: {format_path(kpath)}: {note}"


# Here, not in calls.py: steps, tasks, hooks and templates all name a template this way.
def template_target(d: DocReader, f: dict, path: Path_, refs: list) -> str | None:
    """`template: x` or `templateRef: {name, template}` → a template key."""
    if "template" in f and "templateRef" in f:
        d.p.error(f["templateRef"][1], "set either `template` or `templateRef`, not both", key=True)
        return None
    if "template" in f:
        t = d.string(*f["template"])
        if t is None:
            return None
        refs.append((d, t, f["template"][1]))
        return d.name_of(t)
    if "templateRef" in f:
        g = d.fields(f["templateRef"][0], f["templateRef"][1], TEMPLATE_REF_KEYS,
                     "templateRef")
        if "name" not in g or "template" not in g:
            d.p.error(f["templateRef"][1], "templateRef needs `name` (a WorkflowTemplate) and `template`")
            return None
        wt, t = d.string(*g["name"]), d.string(*g["template"])
        if wt is None or t is None:
            return None
        d.cx.pending_refs.append((d, wt, t, g["name"][1]))
        return f"{wt}/{t}"
    d.p.error(path, "needs `template` (or `templateRef`)")
    return None


def plain(value: Any) -> Any:
    """withItems values as JSON-like data (YAML dates become text)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
