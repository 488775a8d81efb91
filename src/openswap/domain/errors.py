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


# --- operations service (reservations, swaps, custody): the API maps these to HTTP statuses ---


class NotFoundError(OpenswapError):
    """A stored entity (pack, station, reservation, swap ...) does not exist (HTTP 404).

    Unlike `UnknownIdError`, which flags a bad reference inside an input document, this is a
    lookup of live operational state by id.
    """

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class ConflictError(OpenswapError):
    """The request is valid but conflicts with the current state (HTTP 409); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidTransitionError(ConflictError):
    """A state machine was asked for a transition it does not allow from its current state."""

    def __init__(self, entity: str, ident: str, state: str, action: str, why: str = "") -> None:
        reason = f"cannot {action} {entity} {ident!r} in state {state!r}"
        super().__init__(f"{reason}: {why}" if why else reason)
        self.entity = entity
        self.ident = ident
        self.state = state
        self.action = action


class SwapRefusedError(ConflictError):
    """A swap cannot start: every reason (failed compatibility or safety rules) is listed."""

    def __init__(self, reasons: list[str] | tuple[str, ...]) -> None:
        if not reasons:
            raise ValueError("SwapRefusedError needs at least one reason")
        self.reasons = tuple(reasons)
        super().__init__("swap refused: " + "; ".join(self.reasons))


class ConcurrencyConflict(ConflictError):  # noqa: N818 (a conflict, named like its parent)
    """A concurrent transaction changed the same rows (unique or lock conflict, deadlock,
    serialisation failure). Nothing was written; the request may be retried as is.
    """


class IdempotencyConflict(OpenswapError):  # noqa: N818 (the name the API contract uses)
    """An idempotency key was reused with a different request (HTTP 422): the first request's
    fingerprint and operation are kept, the new one is refused without effect.
    """

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"idempotency key {key!r} {reason}")
        self.key = key


class PermissionDeniedError(OpenswapError):
    """The authenticated principal may not do this (HTTP 403); `reason` names the rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthenticationError(OpenswapError):
    """The caller could not be authenticated (HTTP 401): unknown or inactive client, wrong
    secret or password, or a missing, malformed or expired token. The message never says which
    part of a credential was wrong."""
