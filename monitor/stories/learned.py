"""A learned same-event decision: whether a report joins a story of its window, from what the grouper computes.

The hand-written decision (`events.EventGrouper._best`) joins the best story whose average score reaches a
threshold and that no check tells apart, tuned by hand on the labelled corpus. This one weighs the same signals
(the score's parts, each check, how far apart in time, how big the story is) by a logistic regression fitted on
labelled pairs of a report and a story of its window (`bench/decide_fit.py`, which anyone can rerun: it writes
the weights to `learned.json` beside this module, and says how they were evaluated, by event, never by pair).

`stories.decision: learned` selects it (docs/configuration.md). A report joins the story of the highest
probability when that reaches the model's cutoff; stories whose average score is under the model's floor are
not weighed (they were not in the pairs it was fitted on, and weighing them would run every check on every
story of the window).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monitor.errors import MonitorError

# The weights shipped with the code (`bench/decide_fit.py` writes them).
DEFAULT_WEIGHTS = Path(__file__).with_name("learned.json")

# What the model reads of a pair of a report and a story (in this order), as `events.pair_features` computes it:
# the story's average cosine of the ledes, its average weighted names overlap, the share of its reports in
# another language, the best single report's cosine, the hours to its nearest report (a day = 1, capped at 2),
# how many reports it has (log), how many names the report gives (log), and each check (1 when it tells them
# apart): figures, day, lead, facts, recalls, marks, actor; the share of the names the report leads with that the
# story's reports never name, and the same of each of the story's reports against the report (on average).
FEATURES = (
    "cosine",
    "names",
    "other_language",
    "best_cosine",
    "days_apart",
    "story_size",
    "report_names",
    "figures",
    "day",
    "lead",
    "facts",
    "recalls",
    "marks",
    "actor",
    "unnamed_leads",
    "story_unnamed",
    "unstated_figures",
)

# The checks that keep a report out of a story whatever the probability, as the rules' decision does whatever the
# score: the report itself says it reports another event (it gives the story's lead only in a sentence recalling an
# earlier event; it marks it as one a short while before its own). They fire on too few pairs of the labelled sets
# to be weighed (at 0.6 or more on dev and s1: the marks check on 3 pairs of 487, the recall check on 17, none of one
# event).
VETOES = ("recalls", "marks")


class DecisionFileError(MonitorError):
    """The learned decision's weights file cannot be used (missing, not JSON, or not the features the code
    computes)."""


@dataclass(frozen=True, slots=True)
class LearnedDecision:
    """A logistic regression over FEATURES.

    Attributes:
        weights: one per feature, in the order of FEATURES.
        bias: the intercept.
        cutoff: the probability a story must reach to be joined.
        floor: stories whose average score is below this are not weighed (never joined).
        fitted_on: what the weights were fitted on (for the record).
    """

    weights: np.ndarray
    bias: float
    cutoff: float
    floor: float
    fitted_on: str = ""

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """The probability that each row of features (a pair of the report and one story) is one event (0 when one
        of VETOES tells them apart)."""
        z = rows @ self.weights + self.bias
        found: np.ndarray = 1.0 / (1.0 + np.exp(-z))
        vetoed = rows[:, [FEATURES.index(name) for name in VETOES]].any(axis=1)
        return np.where(vetoed, 0.0, found)

    def to_json(self) -> str:
        data = {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "cutoff": self.cutoff,
            "floor": self.floor,
            "fitted_on": self.fitted_on,
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load_decision(path: Path | None = None) -> LearnedDecision:
    """The learned decision in `path` (DEFAULT_WEIGHTS, the shipped one); DecisionFileError naming the file and
    what is wrong with it."""
    path = path if path is not None else DEFAULT_WEIGHTS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DecisionFileError(f"{path}: the learned decision's weights cannot be read: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecisionFileError(f"{path}: the learned decision's weights are not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DecisionFileError(f"{path}: expected an object with features, weights, bias, cutoff and floor")
    features = data.get("features")
    if features != list(FEATURES):
        raise DecisionFileError(
            f"{path}: the weights are for the features {features!r}, the code computes {list(FEATURES)!r}"
        )
    weights = data.get("weights")
    if not isinstance(weights, list) or len(weights) != len(FEATURES):
        raise DecisionFileError(f"{path}: 'weights' must be a list of {len(FEATURES)} numbers, one per feature")
    cutoff, floor = _number(path, "cutoff", data.get("cutoff")), _number(path, "floor", data.get("floor"))
    # A probability of 1 or more, or a floor no story's average score reaches, would never join a story.
    if not 0 < cutoff < 1:
        raise DecisionFileError(f"{path}: 'cutoff' is a probability and must be between 0 and 1, got {cutoff!r}")
    if not 0 <= floor < 1:
        raise DecisionFileError(f"{path}: 'floor' is an average score and must be from 0 to under 1, got {floor!r}")
    return LearnedDecision(
        np.array([_number(path, f"weights[{i}]", w) for i, w in enumerate(weights)]),
        _number(path, "bias", data.get("bias")),
        cutoff,
        floor,
        str(data.get("fitted_on", "")),
    )


def _number(path: Path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DecisionFileError(f"{path}: {key!r} must be a finite number, got {value!r}")
    return float(value)
