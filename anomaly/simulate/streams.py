"""Independent random streams, one per stage of the simulation.

Each stage draws from its own generator, seeded by the user's seed and the stage's
name (and, for chunked stages, the chunk number). Stages therefore do not shift each
other's draws: switching the planted schemes off leaves every unplanted series exactly
as it was, which makes ``simulate_world(seed=s, schemes=False, decoys=False)`` the
exact counterfactual of ``simulate_world(seed=s)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stream"]

_STAGES = {
    "keys": 1,
    "parameters": 2,
    "paths": 3,
    "war": 4,
    "plan": 5,
    "schemes": 6,
    "decoys": 7,
    "mirror": 8,
    "quirks": 9,
}


def stream(seed: int, stage: str, *index: int) -> np.random.Generator:
    """The generator of ``stage`` (and chunk ``index``) for ``seed``.

    Examples
    --------
    >>> a = stream(0, "paths", 3).standard_normal()
    >>> a == stream(0, "paths", 3).standard_normal() != stream(0, "paths", 4).standard_normal()
    True
    """
    return np.random.default_rng([seed, _STAGES[stage], *index])
