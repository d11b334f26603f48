"""The command line parsed by typer from the options table (workflows/options.py): help in rich
panels, shell completion; click's usage errors become the project's one-line UsageError.

Imported only when there is a command line to parse: typer and click cost about 0.05 s.
"""

from __future__ import annotations

import inspect
import itertools
import warnings
from collections.abc import Sequence
from typing import Any, Optional

import click

with warnings.catch_warnings():  # typer 0.24 re-exports click helpers click 8.5 deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    import typer

from workflows.errors import UsageError
from workflows.options import EXAMPLES, EXIT_CODES, HINT, PANELS, Option, panel_of
from workflows.workflow_args import did_you_mean

PROG = "run.py"
DESCRIPTION = "Bring a model up on a device and run a workflow against it."
ADVANCED = PANELS[-1][0]


def parse_with_typer(argv: list[str], table: Sequence[Option]) -> dict[str, Any] | None:
    """The options by name; None when the help or a completion script was printed."""
    command = build_command(table)
    refuse_flag_as_value(argv, table)
    try:
        result = command.main(
            spread_many_values(argv, table),
            prog_name=PROG,
            standalone_mode=False,
        )
    except click.Abort:  # Ctrl-C while click waited
        raise KeyboardInterrupt from None
    except click.ClickException as error:
        raise UsageError(one_line(error)) from None
    return _with_nones(result, table) if isinstance(result, dict) else None


def build_command(table: Sequence[Option]) -> click.Command:
    app = typer.Typer(
        add_completion=True,
        rich_markup_mode="rich",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.command(help=DESCRIPTION, epilog=epilog(), no_args_is_help=False)(_collector(table))
    command = typer.main.get_command(app)
    for param in command.params:  # typer's own completion options: not among the common ones
        if param.name in ("install_completion", "show_completion"):
            param.rich_help_panel = ADVANCED  # type: ignore[attr-defined]
    return command


def _collector(table: Sequence[Option]) -> Any:
    """A function whose keyword parameters are the table's options, in panel order: typer
    reads its signature; called with the parsed values, it returns them."""

    def collect(**values: Any) -> dict[str, Any]:
        return values

    ordered = sorted(table, key=lambda option: _panel_rank(option.name))
    parameters = [_parameter(option) for option in ordered]
    collect.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    collect.__annotations__ = {p.name: p.annotation for p in parameters}
    return collect


def _panel_rank(name: str) -> tuple[int, int]:
    """Panels in PANELS' order, and each panel's options in the order it lists them."""
    titles = [title for title, _ in PANELS]
    rank = titles.index(panel_of(name))
    return rank, PANELS[rank][1].index(name)


def _parameter(option: Option) -> inspect.Parameter:
    # typer reads these annotations at run time, where `X | None` needs Python 3.10's types
    annotation: Any = Optional[option.kind]  # noqa: UP045
    default: Any = None
    if option.kind is bool:
        annotation, default = bool, False
    elif option.many:
        annotation = Optional[list[str]]  # noqa: UP045 - made option.kind in _with_nones
    info = typer.Option(
        default,
        *option.flags,
        help=option.help,
        metavar=option.metavar,
        show_default=False,
        rich_help_panel=panel_of(option.name),
    )
    return inspect.Parameter(
        option.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation
    )


def epilog() -> str:
    """Examples, then the exit codes; typer shows each paragraph on a line of its own."""
    lines = ["[bold]Examples[/]", *(f"$ {line}" for line in EXAMPLES), "", EXIT_CODES]
    return "\n\n".join(lines)


def spread_many_values(argv: Sequence[str], table: Sequence[Option]) -> list[str]:
    """`--merge a b c` as click reads it, `--merge a --merge b --merge c` (an option of click
    takes one value per flag)."""
    many = {flag for option in table if option.many for flag in option.flags}
    spread: list[str] = []
    current: str | None = None  # the many-valued flag whose values are being read
    for word in argv:
        if word.startswith("-"):
            current = word if word in many else None
        elif current is not None and spread[-1] != current:
            spread.append(current)
        spread.append(word)
    return spread


def refuse_flag_as_value(argv: Sequence[str], table: Sequence[Option]) -> None:
    """`--model --device cpu`: click would take `--device` for the model's name."""
    takes_value = {flag for option in table if option.kind is not bool for flag in option.flags}
    flags = {flag for option in table for flag in option.flags} | {"-h", "--help"}
    for word, after in itertools.pairwise(argv):
        if word in takes_value and after in flags:
            raise UsageError(f"Option '{word}' requires an argument ({HINT})")


def one_line(error: click.ClickException) -> str:
    """Click's message on one line, the nearest option named as elsewhere in the runner."""
    if isinstance(error, click.NoSuchOption):
        message = f"No such option: {error.option_name}"
        message += did_you_mean(error.option_name, error.possibilities or ())
    else:
        message = " ".join(error.format_message().split()).rstrip(".")
    return f"{message} ({HINT})"


def _with_nones(values: dict[str, Any], table: Sequence[Option]) -> dict[str, Any]:
    """As before typer: an option given no value is None, a many-valued one a list."""
    for option in table:
        if option.many:
            values[option.name] = [option.kind(v) for v in values[option.name] or ()] or None
    return values
