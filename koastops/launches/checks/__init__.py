"""The launch checklist (``registry``). Importing this package registers every check, in
the order the checklist shows them; each module holds the checks of one concern."""

from koastops.launches.checks import registry, schedule  # noqa: F401
