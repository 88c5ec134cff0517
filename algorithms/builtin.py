"""The algorithms kfp-tune ships, registered under Katib's names. The package imports this
module, so ``kfp_tune.algorithms.registry`` always knows them; the algorithms themselves never
import the registry. Each module is imported when its algorithm is first built: a task that
launches a trial or reads metrics does not load scipy or cmaes (about 0.8 s of its start)."""

from kfp_tune.algorithms.registry import imported_on_use, register

_HERE = "kfp_tune.algorithms"

register("bayesianoptimization", imported_on_use(f"{_HERE}.bayesopt:create"))
register("cmaes", imported_on_use(f"{_HERE}.cmaes:CMAES"))
register("darts", imported_on_use(f"{_HERE}.darts:Darts"))
register("enas", imported_on_use(f"{_HERE}.enas:ENAS"))
register("grid", imported_on_use(f"{_HERE}.grid:GridSearch"))
register("hyperband", imported_on_use(f"{_HERE}.hyperband:Hyperband"), adjust_space=imported_on_use(f"{_HERE}.hyperband:adjust_space"))
register("pbt", imported_on_use(f"{_HERE}.pbt:PBT"))
register("random", imported_on_use(f"{_HERE}.random_search:RandomSearch"))
register("regularized-evolution", imported_on_use(f"{_HERE}.regularized_evolution:RegularizedEvolution"))
register("sobol", imported_on_use(f"{_HERE}.sobol:SobolSearch"))
register("tpe", imported_on_use(f"{_HERE}.tpe:TPE"))
register("multivariate-tpe", imported_on_use(f"{_HERE}.tpe:MultivariateTPE"))
