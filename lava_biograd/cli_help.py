"""Help formatting shared by the ``lava-biograd`` subcommands."""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Append ``(default: ...)`` to an option's help unless the help already states it.

    Options whose default depends on other options (``default=None``) write their default
    into the help text, which would otherwise end in a second ``(default: None)``.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or "(default" in text:
            return text
        return super()._get_help_string(action)
