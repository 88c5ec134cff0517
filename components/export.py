"""Write each component's ``component.yaml`` beside its ``component.py``:
``python -m kfp_tune.components.export [DEST]``.

The YAML files are what users load with ``kfp.components.load_component_from_file`` to compose
our steps into their own pipelines; they name the runtime image (``KFP_TUNE_IMAGE`` when set,
else the pinned default). A test checks the committed files match what this writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kfp import compiler

from kfp_tune.components import best_trial, collect_metrics, decide_stop, launch_trial, stage_inputs, suggest
from kfp_tune.components.decide_stop import fail_if_experiment_failed

COMPONENTS = {
    "suggest": suggest, "launch_trial": launch_trial, "collect_metrics": collect_metrics, "decide_stop": decide_stop,
    "stage_inputs": stage_inputs, "best_trial": best_trial,
    # decide-stop's second component (its code in components/decide_stop), in a folder of its own as every component.yaml is
    "fail_if_experiment_failed": fail_if_experiment_failed,
}
"""Each component by the folder its ``component.yaml`` is written to."""
HERE = Path(__file__).resolve().parent


def export(dest: Path = HERE) -> list[Path]:
    """Compile every component to ``dest/<folder>/component.yaml``; the paths written."""
    written = []
    for folder, component in COMPONENTS.items():
        path = dest / folder / "component.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        compiler.Compiler().compile(component, str(path))
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m kfp_tune.components.export", description="Write each component's component.yaml into DEST/<component>/.")
    parser.add_argument("dest", nargs="?", type=Path, default=HERE, help="folder to write <component>/component.yaml into (default: beside the code)")
    args = parser.parse_args(argv)
    for written_path in export(args.dest):
        print(f"wrote {written_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
