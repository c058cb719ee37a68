"""The ``fixgate`` command line: one click group composed of per-package command groups.

Each package keeps its own thin commands next to the code they drive; this module only
assembles them, so that ``fix_engine`` never has to know about ``venues`` or ``brokers``.
"""

from __future__ import annotations

import importlib

import click

#: (module, attribute) of every command group or command mounted under ``fixgate``.
#: Imported lazily so that ``fixgate --help`` stays fast and a broken optional part
#: reports itself instead of taking the whole CLI down.
COMMAND_SOURCES: tuple[tuple[str, str], ...] = (
    ("fix_engine.codec.cli", "decode"),
    ("fix_engine.dictionary.cli", "dict_group"),
    ("fix_engine.cli", "reflector"),
    ("fix_engine.cli", "session_group"),
    ("venues.cli", "venue_group"),
    ("brokers.registry.cli", "accounts_group"),
    ("brokers.registry.cli", "positions"),
    ("brokers.registry.cli", "fills"),
    ("brokers.registry.cli", "registry_group"),
    ("brokers.run_cli", "run"),
    ("brokers.order_cli", "order"),
    ("brokers.oms_cli", "oms_group"),
)


class FixgateGroup(click.Group):
    """The root group: resolves sub-commands from ``COMMAND_SOURCES`` on first use."""

    def _load(self) -> None:
        if getattr(self, "_loaded", False):
            return
        self._loaded = True
        for module_name, attribute in COMMAND_SOURCES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    continue  # that part of fixgate is not built yet
                raise
            command = getattr(module, attribute)
            self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return self.commands.get(cmd_name)


@click.group(cls=FixgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fixgate")
def main() -> None:
    """fixgate: FIX engine, matching venue and broker gateway."""


if __name__ == "__main__":  # pragma: no cover
    main()
