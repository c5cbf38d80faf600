"""Errors of the command line that are not errors of a scenario."""

from __future__ import annotations

from scenarios import ScenarioError


class UsageError(ScenarioError):
    """A command-line option (or the folder or file given to one) that cannot be used: the
    option, what is wrong and what is allowed. A ``ScenarioError`` too, so the CLI reports
    both the same way (one line, exit status 2)."""
