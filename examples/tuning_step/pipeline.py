"""The tuning step inside a pipeline of your own: preprocess -> tune -> train -> evaluate.

    preprocess   writes the digits data, split into a training part and a held-out test part,
                 as a Dataset
    tune         kfp_tune.pipelines.tuning_step: trials read the Dataset (input_path) and save
                 their models (save_model); out come the best parameters, objective, trial, model
    train        fits the final model on the whole training part with the best parameters
    evaluate     scores it on the held-out part, which no trial saw

On this machine (kfp.local, trials as subprocesses)::

    python examples/tuning_step/pipeline.py run STORE_FOLDER
    python examples/tuning_step/pipeline.py compile digits-pipeline.yaml   # for a cluster

On a cluster the four components need an image with kfp-tune and scikit-learn
(``KFP_TUNE_EXAMPLE_IMAGE``; build one FROM the runtime image with ``pip install scikit-learn``),
and the trials the same with ``trial.py`` at ``/opt/tuning-step``.
"""

# No `from __future__ import annotations` here: KFP reads the components' annotations.
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output

from kfp_tune.components._image import RUNTIME_IMAGE
from kfp_tune.pipelines import tuning_step

HERE = Path(__file__).resolve().parent
EXPERIMENT = HERE / "experiment.yaml"
TRIAL_FOLDER = "/opt/tuning-step"
"""Where the experiment's trial command finds trial.py (mounted from this folder on a laptop)."""
EXAMPLE_IMAGE = os.environ.get("KFP_TUNE_EXAMPLE_IMAGE", RUNTIME_IMAGE)
LOCAL_LAUNCHER = {"kind": "local", "mounts": {TRIAL_FOLDER: str(HERE)}}


@dsl.component(base_image=EXAMPLE_IMAGE, install_kfp_package=False)
def preprocess(split: Output[Dataset], test_size: float = 0.25, seed: int = 0) -> None:
    """The digits data (bundled with scikit-learn), scaled to [0, 1] and split, stratified, into
    ``x_train``/``y_train`` and the held-out ``x_test``/``y_test``, as one .npz file."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=test_size, random_state=seed, stratify=y)
    with open(split.path, "wb") as out:  # a handle: np.savez would add ".npz" to a path
        np.savez(out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    split.metadata.update({"train": len(y_train), "test": len(y_test)})


@dsl.component(base_image=EXAMPLE_IMAGE, install_kfp_package=False)
def train(split: Input[Dataset], parameters: dict, model: Output[Model]) -> None:
    """The final model: an SVC with the tuned parameters, fitted on the whole training part."""
    import pickle

    import numpy as np
    from sklearn.svm import SVC

    with np.load(split.path) as data:
        fitted = SVC(C=float(parameters["C"]), gamma=float(parameters["gamma"])).fit(data["x_train"], data["y_train"])
    with open(model.path, "wb") as out:
        pickle.dump(fitted, out)
    model.metadata.update({"parameters": parameters})


@dsl.component(base_image=EXAMPLE_IMAGE, install_kfp_package=False)
def evaluate(split: Input[Dataset], model: Input[Model], metrics: Output[Metrics]) -> float:
    """Accuracy of the final model on the held-out test part."""
    import pickle

    import numpy as np

    with open(model.path, "rb") as stored:
        fitted = pickle.load(stored)  # this pipeline's own artifact (best-trial's model), never outside input
    with np.load(split.path) as data:
        accuracy = float(fitted.score(data["x_test"], data["y_test"]))
    metrics.log_metric("test_accuracy", accuracy)
    return accuracy


Outputs = NamedTuple(  # noqa: UP014 (KFP reads this form)
    "Outputs", [("test_accuracy", float), ("best_objective", float), ("best_trial", str), ("best_model", Model), ("final_model", Model)]
)


def digits_pipeline(store_uri: str, launcher_config: dict[str, Any] | None = None, **options: Any) -> Any:
    """The example pipeline; ``options`` go to :func:`kfp_tune.pipelines.tuning_step`."""
    tune = tuning_step(EXPERIMENT, store_uri=store_uri, launcher_config=launcher_config, **options)

    @dsl.pipeline(name="digits-tune-train-evaluate", description="preprocess -> tune (kfp-tune) -> train with the best parameters -> evaluate")
    def pipeline(experiment_name: str = "digits-svc", test_size: float = 0.25, seed: int = 0) -> Outputs:
        data = preprocess(test_size=test_size, seed=seed)
        # Pass the step at least one parameter: kfp.local (2.17) drops a nested pipeline's
        # artifact inputs when its call passes none.
        tuned = tune(dataset=data.outputs["split"], experiment_name=experiment_name)
        final = train(split=data.outputs["split"], parameters=tuned.outputs["best_parameters"])
        scored = evaluate(split=data.outputs["split"], model=final.outputs["model"])
        return Outputs(
            test_accuracy=scored.outputs["Output"], best_objective=tuned.outputs["best_objective"], best_trial=tuned.outputs["best_trial"],
            best_model=tuned.outputs["best_model"], final_model=final.outputs["model"],
        )

    return pipeline


def run_here(store: str) -> Any:
    """The example on kfp.local, its store a folder; returns kfp.local's run (its outputs).
    ``step_inputs_kept_whole``: kfp.local (2.17) would otherwise rewrite the text "python3" in
    every step input, the experiment's trial command included (kubeflow/pipelines#14459)."""
    from kfp import local

    from kfp_tune.pipelines import step_inputs_kept_whole

    store = str(Path(store).resolve())
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(Path(store) / "kfp-local"), raise_on_error=True)
    with step_inputs_kept_whole():
        return digits_pipeline(store, LOCAL_LAUNCHER, rounds=1)()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("run", "compile"):
        print(__doc__)
        return 2
    if argv[0] == "compile":
        from kfp import compiler

        compiler.Compiler().compile(digits_pipeline("s3://mlpipeline/kfp-tune"), argv[1])
        return 0
    run = run_here(argv[1])
    print(f"best trial {run.outputs['best_trial']}: validation accuracy {run.outputs['best_objective']:.4f}; test accuracy {run.outputs['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
