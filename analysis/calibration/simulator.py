"""Moved: the agent model's parameters and statistics are :mod:`.agent_model`, its priors'
vocabulary :mod:`.priors`, ``priors_from`` :mod:`.posterior`. Kept while other branches merge."""

from .agent_model import *  # noqa: F403
from .agent_model import _log_price_over_list  # noqa: F401
from .posterior import priors_from  # noqa: F401
from .priors import Prior  # noqa: F401
