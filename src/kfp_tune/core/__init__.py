"""The pure core of kfp-tune: spec, search space, trials, observations, decisions and the steps.

Nothing here imports kfp, kubernetes or minio; stores and launchers come in through small
interfaces (:mod:`kfp_tune.core.interfaces`).
"""
