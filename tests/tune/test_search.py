"""Search strategies and the median stopping rule (what the sandbox uses to pick children)."""

from __future__ import annotations

import pytest

from services.tuning.search import (
    GridSearch,
    LocalBayesSearch,
    RandomSearch,
    Trial,
    best_trial,
    should_stop_median,
    strategy_for,
)

RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5", "ScalingType": "Linear"},
        {"Name": "alpha", "MinValue": "0.001", "MaxValue": "1000", "ScalingType": "Logarithmic"},
        {"Name": "keep", "MinValue": "0.9", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"},
    ],
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "1", "MaxValue": "10", "ScalingType": "Auto"}
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def test_random_stays_in_bounds_and_follows_scaling() -> None:
    s = RandomSearch(RANGES, seed=3)
    samples = [s.next_values([], "Minimize") for _ in range(400)]
    for v in samples:
        assert 0.1 <= float(v["eta"]) <= 0.5
        assert 0.001 <= float(v["alpha"]) <= 1000
        assert 0.9 <= float(v["keep"]) <= 0.999
        assert 1 <= int(v["max_depth"]) <= 10 and v["max_depth"] == str(int(v["max_depth"]))
        assert v["booster"] in ("gbtree", "dart")
    # log scaling: about half the samples below the geometric middle (1), not ~0.1 % as linear would give
    below = sum(float(v["alpha"]) < 1 for v in samples) / len(samples)
    assert 0.35 < below < 0.65
    # reverse log: values crowd towards 1
    near_one = sum(float(v["keep"]) > 0.99 for v in samples) / len(samples)
    assert near_one > 0.3
    assert len({v["booster"] for v in samples}) == 2


def test_grid_walks_every_combination_once() -> None:
    g = GridSearch(
        {
            "CategoricalParameterRanges": [
                {"Name": "a", "Values": ["x", "y"]},
                {"Name": "b", "Values": ["1", "2", "3"]},
            ]
        }
    )
    assert g.size == 6
    seen = []
    trials: list[Trial] = []
    while (v := g.next_values(trials, "Minimize")) is not None:
        seen.append((v["a"], v["b"]))
        trials.append(Trial(v, None))
    assert len(set(seen)) == 6 == len(seen)
    with pytest.raises(ValueError):
        GridSearch(RANGES)


def test_bayesian_stand_in_searches_near_the_best() -> None:
    s = LocalBayesSearch(
        {"ContinuousParameterRanges": [RANGES["ContinuousParameterRanges"][0]]}, seed=1, warmup=3
    )
    trials = [Trial({"eta": "0.45"}, 0.1), Trial({"eta": "0.2"}, 0.5), Trial({"eta": "0.3"}, 0.4)]
    picks = [float(s.next_values(trials, "Minimize")["eta"]) for _ in range(200)]
    near = sum(abs(p - 0.45) < 0.1 for p in picks) / len(picks)
    assert near > 0.5  # mostly around the best (0.45), some exploration
    assert isinstance(strategy_for("Bayesian", RANGES), LocalBayesSearch)
    assert isinstance(strategy_for("Hyperband", RANGES), RandomSearch)


def test_best_trial_direction() -> None:
    trials = [Trial({}, 0.3), Trial({}, None), Trial({}, 0.1), Trial({}, 0.7)]
    assert best_trial(trials, "Minimize").objective == 0.1
    assert best_trial(trials, "Maximize").objective == 0.7
    assert best_trial([Trial({}, None)], "Minimize") is None


def test_median_rule() -> None:
    finished = [[0.5, 0.4, 0.3], [0.6, 0.5, 0.4], [0.4, 0.3, 0.2]]
    # running averages at k=3: 0.4, 0.5, 0.3 -> median 0.4; best so far 0.45 is worse -> stop
    assert should_stop_median([0.6, 0.5, 0.45], finished, "Minimize")
    assert not should_stop_median([0.5, 0.4, 0.35], finished, "Minimize")
    # too little history: never stop
    assert not should_stop_median([0.9, 0.9, 0.9], finished[:2], "Minimize")
    assert not should_stop_median([0.9], finished, "Minimize")
    # maximize: the same with the sign flipped
    assert should_stop_median([0.1, 0.2, 0.25], [[0.5, 0.6, 0.7]] * 3, "Maximize")
