"""Help and messages that read well: no type tags beside options, counted nouns."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 step`, `2 steps`, `0 steps`."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def plain_help_types() -> None:
    """Recent typer prints a type tag beside every option and argument (`<bool>` beside a
    flag, `<list[Path]>`, `<path>`). flowport's options name what they take with a metavar
    (FILE, NAME=VALUE), flags take nothing: show the metavar, or nothing. Typer has no
    setting for this; its parameter classes are the one place. Older typer without these
    classes already prints no tags."""
    try:
        from typer.core import TyperArgument, TyperOption
    except ImportError:
        return
    if getattr(TyperOption, "_flowport_plain", False) or not hasattr(TyperOption, "display_type_rich"):
        return

    def option_type(self, ctx):  # noqa: ARG001 - typer's signature
        if getattr(self, "is_flag", False):
            return None
        return self.metavar or str(getattr(getattr(self, "type", None), "name", "") or "VALUE").upper()

    def argument_type(self, ctx):  # noqa: ARG001 - the name column shows the metavar already
        return None

    TyperOption.display_type_rich = option_type
    TyperArgument.display_type_rich = argument_type
    TyperOption._flowport_plain = True
