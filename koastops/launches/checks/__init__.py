"""The launch checklist (``registry``). Importing this package registers every check, in
the order the checklist shows them (the import order below, not alphabetical); each module
holds the checks of one concern."""

# ruff: noqa: I001
from koastops.launches.checks import registry  # noqa: F401
from koastops.launches.checks import submitter  # noqa: F401
from koastops.launches.checks import naming  # noqa: F401
from koastops.launches.checks import tracking  # noqa: F401
from koastops.launches.checks import pixel  # noqa: F401
from koastops.launches.checks import quality  # noqa: F401
from koastops.launches.checks import consent  # noqa: F401
from koastops.launches.checks import landing  # noqa: F401
from koastops.launches.checks import budget  # noqa: F401
from koastops.launches.checks import schedule  # noqa: F401
