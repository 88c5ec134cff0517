"""The algorithms kfp-tune ships, registered under Katib's names. The package imports this
module, so ``kfp_tune.algorithms.registry`` always knows them; the algorithms themselves never
import the registry. Each module is imported when its algorithm is first built: a task that
launches a trial or reads metrics does not load scipy or cmaes (about 0.8 s of its start)."""

from kfp_tune.algorithms.registry import imported_on_use, register

_HERE = "kfp_tune.algorithms"

# ends=: what each does at the end of its space (registry.SearchEnd), read by KatibClient.tune
# and by the refusal of a restart; the samplers built on space_tools.BuiltinAlgorithm, and the
# architecture searches through nas_space.last_architectures, hand over a finite space's last points
register("bayesianoptimization", imported_on_use(f"{_HERE}.bayesopt:create"), ends="on-a-finite-space")
register("cmaes", imported_on_use(f"{_HERE}.cmaes:CMAES"), ends="on-a-finite-space")
register("darts", imported_on_use(f"{_HERE}.darts:Darts"), ends="after-its-schedule")
register("enas", imported_on_use(f"{_HERE}.enas:ENAS"), ends="on-a-finite-space")
register("grid", imported_on_use(f"{_HERE}.grid:GridSearch"), ends="after-its-schedule")
register("hyperband", imported_on_use(f"{_HERE}.hyperband:Hyperband"), adjust_space=imported_on_use(f"{_HERE}.hyperband:adjust_space"),
         ends="after-its-schedule")
register("pbt", imported_on_use(f"{_HERE}.pbt:PBT"), ends="never")
register("random", imported_on_use(f"{_HERE}.random_search:RandomSearch"), ends="on-a-finite-space")
register("regularized-evolution", imported_on_use(f"{_HERE}.regularized_evolution:RegularizedEvolution"), ends="on-a-finite-space")
register("sobol", imported_on_use(f"{_HERE}.sobol:SobolSearch"), ends="on-a-finite-space")
register("tpe", imported_on_use(f"{_HERE}.tpe:TPE"), ends="on-a-finite-space")
register("multivariate-tpe", imported_on_use(f"{_HERE}.tpe:MultivariateTPE"), ends="on-a-finite-space")
