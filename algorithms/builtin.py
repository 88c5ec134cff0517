"""The algorithms kfp-tune ships, registered under Katib's names. The package imports this
module, so ``kfp_tune.algorithms.registry`` always knows them; the algorithms themselves never
import the registry."""

from kfp_tune.algorithms import bayesopt, cmaes, darts, enas, grid, hyperband, pbt, random_search, regularized_evolution, sobol, tpe
from kfp_tune.algorithms.registry import register

register("bayesianoptimization", bayesopt.create)
register("cmaes", cmaes.CMAES)
register("darts", darts.Darts)
register("enas", enas.ENAS)
register("grid", grid.GridSearch)
register("hyperband", hyperband.Hyperband, adjust_space=hyperband.adjust_space)
register("pbt", pbt.PBT)
register("random", random_search.RandomSearch)
register("regularized-evolution", regularized_evolution.RegularizedEvolution)
register("sobol", sobol.SobolSearch)
register("tpe", tpe.TPE)
register("multivariate-tpe", tpe.MultivariateTPE)
