"""YAML loading with source positions, and the error type every translator uses.

Translators read plain Python values (``Document.data``) and ask the document where a
value came from (``Document.mark(path)``) when they report a problem. ``Problems``
collects the problems of one document so that a translator reports them all at once;
``SourceError`` renders them as ``file:line:col: error: message (key.path)`` plus a
two-line excerpt.

positions: Mark, Document · problems: Problem, Problems, SourceError, hints ·
limits: size, depth, alias bombs, duplicate keys · loader: load_documents.
"""

from .limits import MAX_BYTES, MAX_DEPTH, MIN_NODE_BUDGET, NODE_BUDGET_FACTOR
from .loader import load_documents
from .positions import Document, Mark
from .problems import Problem, Problems, SourceError, did_you_mean, format_path, unknown_key_hint

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MIN_NODE_BUDGET",
    "NODE_BUDGET_FACTOR",
    "Document",
    "Mark",
    "Problem",
    "Problems",
    "SourceError",
    "did_you_mean",
    "format_path",
    "load_documents",
    "unknown_key_hint",
]
