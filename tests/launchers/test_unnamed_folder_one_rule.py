"""A local run gives a trial its metrics folder and its checkpoint folder only where a word of
its command, args, env or workingDir names them, and says before the first trial when none
does: both notes follow what the launcher maps, so they must never disagree with each other or
with the launcher (a word that the launcher leaves alone, said to name the folder, hides the
note from a trial that then writes this machine's file)."""

from __future__ import annotations

import random
from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.local import LocalLauncher, unnamed_metrics_folder

FOLDER = "/opt/out"
METRICS = f"{FOLDER}/metrics.log"
WORDS = [
    "train.py", "--lr=0.1", FOLDER, f"{FOLDER}/", f"{FOLDER}/m.log", f"{FOLDER}x", f"x{FOLDER}", f"--out={FOLDER}", f"--out={FOLDER}x",
    f"--a={FOLDER}x,--b={FOLDER}", f"--a={FOLDER},--b={FOLDER}x", f"a:{FOLDER}", f"'{FOLDER}/m.log'", f"/x{FOLDER}", "//opt/out",
    f"{FOLDER}.old", f"--out {FOLDER}", f"> {FOLDER}/m.log", f"$HOME{FOLDER}",
]
"""Words around FOLDER: some name it as the launcher maps words (alone, at a word's start, after
its first ``=``; in an ``sh -c`` script, at the start of a word of the script), some only look alike."""


def _container(rng: random.Random) -> dict[str, Any]:
    """A trial container with a few of WORDS in its command (plain or under ``sh -c``), args,
    env and workingDir."""
    picked = lambda most: [rng.choice(WORDS) for _ in range(rng.randint(0, most))]  # noqa: E731
    command = ["python3", *picked(3)] if rng.random() < 0.5 else ["sh", "-c", " ".join(["python3", *picked(3)])]
    container: dict[str, Any] = {"name": "training-container", "image": "trainer", "command": command, "args": picked(2)}
    container["env"] = [{"name": f"V{index}", "value": value} for index, value in enumerate(picked(2))]
    if rng.random() < 0.2:
        container["workingDir"] = rng.choice(WORDS)
    return container


def _unnamed_trial_dir(container: dict[str, Any]) -> str:
    """The launcher's verdict on a checkpoint folder at FOLDER for a trial of ``container``."""
    settings = [{"name": "suggestion_trial_dir", "value": FOLDER}, {"name": "n_population", "value": "5"}]
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": settings}}))
    template = experiment.spec.trial_template
    assert template is not None and isinstance(template.trial_spec, dict)
    template.trial_spec["spec"]["template"]["spec"]["containers"] = [{**container, "name": template.primary_container_name}]
    return LocalLauncher().unnamed_trial_dir(experiment)


def test_the_metrics_folder_and_the_checkpoint_folder_are_told_by_one_rule():
    rng = random.Random(20261206)
    disagree = []
    for _ in range(400):
        container = _container(rng)
        metrics, trial_dir = unnamed_metrics_folder(container, METRICS, "File"), _unnamed_trial_dir(container)
        if metrics != trial_dir:
            disagree.append((container, metrics, trial_dir))
    assert not disagree, disagree[:3]


def test_a_folder_after_a_later_equals_sign_of_one_word_is_not_mapped_so_it_is_told():
    """The launcher maps a path after a word's first ``=`` only: ``--a=/opt/outx,--b=/opt/out``
    keeps ``/opt/out`` as it is, so a trial given it writes this machine's folder."""
    for word in (f"--a={FOLDER}x,--b={FOLDER}", f"--a={FOLDER}x,--b={FOLDER}/m.log"):
        assert unnamed_metrics_folder({"command": ["python3", "train.py", word]}, METRICS, "File") == FOLDER, word
        assert unnamed_metrics_folder({"command": ["sh", "-c", f"python3 train.py {word}"]}, METRICS, "File") == FOLDER, word
    for word in (f"--a={FOLDER}", f"--a={FOLDER}/m.log,--b={FOLDER}x"):  # after the first "=": mapped, so named
        assert unnamed_metrics_folder({"command": ["python3", "train.py", word]}, METRICS, "File") == "", word
