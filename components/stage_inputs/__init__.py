from kfp_tune.components.stage_inputs.component import stage_inputs

__all__ = ["stage_inputs"]
