"""The `openswap` command: one Typer app with a sub-app per capability.

`main()` runs the app and turns every `OpenswapError` into a readable message on stderr and exit
code 2, so bad input never shows a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from openswap import __version__
from openswap.cli import (
    catalog,
    compat,
    db,
    demo,
    health,
    ledger,
    plan,
    scenario,
    serve,
    simulate,
    station,
    token,
)
from openswap.domain.errors import InputError, OpenswapError

app = typer.Typer(
    name="openswap",
    help=(
        "Plan, simulate and operate cross-brand battery-swap networks for electric heavy trucks."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(compat.app, name="compat")
app.add_typer(scenario.app, name="scenario")
app.add_typer(plan.app, name="plan")
app.add_typer(db.app, name="db")
app.add_typer(token.app, name="token")
app.add_typer(ledger.app, name="ledger")
app.add_typer(station.app, name="station")
app.add_typer(health.app, name="health")
app.command("serve")(serve.serve)
app.command("simulate")(simulate.simulate_cmd)
app.command("compare")(simulate.compare_cmd)
app.command("demo")(demo.demo)
app.command("tour")(demo.tour)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"openswap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Plan, simulate and operate cross-brand battery-swap networks for electric heavy trucks."""


def report_error(err: OpenswapError, console: Console) -> None:
    """Print an openswap error: one line per problem, location first."""
    if isinstance(err, InputError):
        count = len(err.problems)
        console.print(f"[bold red]error:[/] {count} problem{'s' if count > 1 else ''} in the input")
        for problem in err.problems:
            where = escape(problem.where())
            prefix = f"[bold]{where}[/]: " if where else ""
            console.print(f"  {prefix}{escape(problem.message)}", highlight=False, soft_wrap=True)
    else:
        console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv) and return the exit code."""
    try:
        app(args=argv, prog_name="openswap")
    except SystemExit as exc:  # click's standalone mode ends every run this way
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OpenswapError as exc:
        report_error(exc, Console(stderr=True))
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
