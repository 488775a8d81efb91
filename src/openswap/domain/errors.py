"""The one exception tree of openswap.

Input problems carry where they were found (file, line, field) so every adapter can show the
user exactly what to fix: the CLI exits 2 without a traceback, the API answers RFC 9457.
"""

from __future__ import annotations

from dataclasses import dataclass


class OpenswapError(Exception):
    """Base of every error openswap raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong with it."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def where(self) -> str:
        """`file:line: field` with the parts that are known."""
        parts = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class InputError(OpenswapError):
    """Bad input from a user: one or more problems, each with its location."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CatalogError(InputError):
    """A catalog file is malformed, inconsistent or names something that does not exist."""


class ScenarioError(InputError):
    """A scenario file is malformed, or describes a network that cannot run."""


class UnknownIdError(InputError):
    """A lookup by id found nothing."""

    def __init__(self, kind: str, ident: str, known: tuple[str, ...] = ()) -> None:
        hint = ""
        if known:
            close = [k for k in known if ident.lower() in k.lower() or k.lower() in ident.lower()]
            shown = close[:5] or list(known[:5])
            hint = f" (known: {', '.join(shown)}{', ...' if len(known) > len(shown) else ''})"
        super().__init__([Problem(f"unknown {kind} {ident!r}{hint}", field=kind)])
        self.kind = kind
        self.ident = ident


class SafetyPolicyError(OpenswapError):
    """A configuration tried to loosen a safety interlock below its regulatory floor."""
