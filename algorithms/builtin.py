"""The algorithms kfp-tune ships, registered under Katib's names. The package imports this
module, so ``kfp_tune.algorithms.registry`` always knows them; the algorithms themselves never
import the registry."""

from kfp_tune.algorithms import bayesopt, cmaes, grid, hyperband, random_search, sobol, tpe
from kfp_tune.algorithms.registry import register

register("bayesianoptimization", bayesopt.create)
register("cmaes", cmaes.CMAES)
register("grid", grid.GridSearch)
register("hyperband", hyperband.Hyperband, adjust_space=hyperband.adjust_space)
register("random", random_search.RandomSearch)
register("sobol", sobol.SobolSearch)
register("tpe", tpe.TPE)
register("multivariate-tpe", tpe.MultivariateTPE)
