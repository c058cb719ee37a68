"""``fixgate dict``: command-line checks of QuickFIX-format data dictionaries."""

from __future__ import annotations

import click

from .loader import DictionaryError, load_dictionary


@click.group(name="dict")
def dict_group() -> None:
    """Data dictionary tools."""


@dict_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Load each dictionary FILE and report its version and size, or the error with file:line."""
    failed = False
    for path in files:
        try:
            dictionary = load_dictionary(path)
        except DictionaryError as exc:
            failed = True
            click.echo(f"FAIL {exc}", err=True)
            continue
        click.echo(
            f"OK {path}: {dictionary.begin_string}, {len(dictionary.messages)} messages, {len(dictionary.fields)} fields"
        )
    if failed:
        raise SystemExit(1)
