"""The ranking's public API in one import (`from mamdl.ranking import api as ranking`)."""

from mamdl.ranking import *  # noqa: F403
from mamdl.ranking import __all__  # noqa: F401
