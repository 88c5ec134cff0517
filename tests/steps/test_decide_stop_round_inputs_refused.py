"""decide-stop given round inputs that cannot be meant (review C of the QA pipeline fixes,
finding 5): ``round_index=3, rounds_total=2`` ended the run without a word (rounds left -2, so
"rounds used up"), and ``rounds_total=0`` then failed on the ended run. They are now refused
naming the input, as suggest refuses them (one check, ``schedule.check_round``), and the run goes
on; the exit handler (``final``) still closes the run whatever its round inputs."""

from __future__ import annotations

import json

import pytest

from conftest import quadratic_experiment
from kfp_tune.core.errors import InputError
from kfp_tune.steps.entrypoints import decide_stop_step, suggest_step

SPEC = json.dumps(quadratic_experiment())


@pytest.mark.parametrize(
    ("round_index", "rounds_total", "said"),
    [
        (3, 2, "round_index: expected a round of the run's rounds_total (2): 0 to 1, got 3"),
        (2, 2, "round_index: expected a round of the run's rounds_total (2): 0 to 1, got 2"),
        (0, 0, "rounds_total: expected the rounds compiled into the run, 1 or more, got 0"),
        (-1, 2, "round_index: expected a round's number, 0 or more, got -1"),
    ],
    ids=["past-total", "at-total", "rounds_total-0", "negative"],
)
def test_a_round_that_cannot_be_meant_is_refused_and_the_run_goes_on(local_store, round_index, rounds_total, said):
    suggest_step(local_store.uri, "quad", "r1", 0, 2, experiment_spec=SPEC, trial_count=0)
    with pytest.raises(InputError) as refused:
        decide_stop_step(local_store.uri, "quad", "r1", round_index, rounds_total)
    assert str(refused.value) == said
    runs = local_store.root / "experiments" / "quad" / "runs"
    assert not list(runs.glob("*.end.json")), "the refused step ended the run"
    assert decide_stop_step(local_store.uri, "quad", "r1", 0, 2) is True  # the run's own round 0 still decides


def test_the_exit_handler_closes_the_run_whatever_its_round_inputs(local_store):
    suggest_step(local_store.uri, "quad", "r1", 0, 2, experiment_spec=SPEC, trial_count=0)
    decide_stop_step(local_store.uri, "quad", "r1", 0, 0, final=True, releases_claim=True)
    assert list((local_store.root / "experiments" / "quad" / "runs").glob("*.end.json")), "the exit handler left the run open"
