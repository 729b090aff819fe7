"""How sure we are that a work is the one meant.

Two things must both hold before a front may pick for the person: the match itself is good
(absolute quality), and no *different* work competes (margin). Either alone misleads: a perfect
title match is not enough when two books share the title, and a clear lead is not enough when the
leader is a poor match.

The margin is a posterior share: each work gets the weight exp(score / T) * popularity ** A, and a
work's share is its weight over the sum. So a lead of 0.05 in match score is worth about 7:1, and
between two equal matches the one snatched 10 times more often gets about 3:1 ("Royal Assassin" by
Robin Hobb over an obscure namesake) -- enough to order them, only just enough to be sure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

CONFIDENCE_THRESHOLD = 0.7
"""At or above this, the top result may be taken without asking ("this is it"); below it, a front
should let the person choose."""

SCORE_TEMPERATURE = 0.025
"""Match-score difference worth a factor e between two works."""
POPULARITY_EXPONENT = 0.5
"""How much popularity (snatches + seeders over a work's editions) counts: weight ~ sqrt(pop)."""
POPULARITY_CAP = 10.0
"""ln(1 + popularity) is capped here (about 22,000), so fame can't drown a better match."""

QUALITY_MIDPOINT = 0.70
"""Work score at which the quality term alone gives 0.5."""
QUALITY_SPREAD = 0.05


def _logistic(x: float) -> float:
    if x < -40:
        return 0.0
    if x > 40:
        return 1.0
    return 1.0 / (1.0 + math.exp(-x))


def log_weight(score: float, popularity: int) -> float:
    """A work's log prior-times-likelihood; works are ordered by it."""
    pop = min(POPULARITY_CAP, math.log1p(max(0, popularity)))
    return score / SCORE_TEMPERATURE + POPULARITY_EXPONENT * pop


def order_score(score: float, popularity: int) -> float:
    """`log_weight` on the scale of a match score (score plus a small popularity term)."""
    return log_weight(score, popularity) * SCORE_TEMPERATURE


def shares(log_weights: Sequence[float]) -> list[float]:
    """Each work's share of the total weight (a softmax), 0-1, summing to 1."""
    if not log_weights:
        return []
    top = max(log_weights)
    exps = [math.exp(w - top) for w in log_weights]
    total = sum(exps)
    return [e / total for e in exps]


def quality_term(score: float) -> float:
    return _logistic((score - QUALITY_MIDPOINT) / QUALITY_SPREAD)


def work_confidence(score: float, share: float) -> float:
    """Confidence, 0-1, from a work's match score and its posterior share among all works."""
    return round(quality_term(score) * share, 4)


def is_confident(confidence: float) -> bool:
    return confidence >= CONFIDENCE_THRESHOLD
