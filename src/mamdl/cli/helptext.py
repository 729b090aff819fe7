"""Help that reads like gh's: value names (TEXT, N, PATH) instead of Python types (`<list[str]>`,
`<float range>`), ranges in words, and flags without a type.

Typer derives these from annotations; there is no setting for it, so the three methods that
produce them are replaced once, here, before any help is printed.
"""

from __future__ import annotations

from typing import get_args, get_origin


def value_name(param) -> str:
    """TEXT, N, NUMBER, PATH, a|b|c for choices; the metavar when one is given."""
    if param.metavar:
        return param.metavar
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return "TEXT"
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    if desc.is_path:
        return "PATH"
    base = desc.annotation
    args = get_args(base)
    if get_origin(base) in (list, tuple) and args:
        base = args[0]
    if base is bool:
        return ""
    if base is int:
        return "N"
    if base is float:
        return "NUMBER"
    return "TEXT"


def range_words(lo: float | None, hi: float | None) -> str | None:
    def num(x: float) -> str:
        return f"{x:g}"

    if lo is not None and hi is not None:
        return f"{num(lo)} to {num(hi)}"
    if lo is not None:
        return f"at least {num(lo)}"
    if hi is not None:
        return f"at most {num(hi)}"
    return None


def install() -> None:
    from typer import core

    def display_type(self, ctx):
        return value_name(self)

    def display_type_rich(self, ctx):
        return value_name(self) or None

    def number_range(self):
        if getattr(self, "count", False):
            return None
        return range_words(getattr(self, "min", None), getattr(self, "max", None))

    def usage_name(self):
        name = (self.metavar or self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    for cls in (core.TyperOption, core.TyperArgument):
        cls.display_type = display_type  # type: ignore[method-assign]
        cls.display_type_rich = display_type_rich  # type: ignore[method-assign]
        cls._get_number_range_help_str = number_range  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    core.TyperArgument._rich_display_name = lambda self: (self.metavar or self.name or "").upper()  # type: ignore[method-assign]
