"""help(kfp_tune.submit_function), the tune(host=) path, gave the store default as
s3://mlpipeline/kfp-tune only (review C, finding 7), while with namespace= the run keeps its
records in s3://mlpipeline/private/NS/kfp-tune (cluster_store_default), as the guide's table of
tune(host=)'s options says: the docstring gives the same rule, checked against the code."""

from __future__ import annotations

import kfp_tune
from kfp_tune.pipelines.submit import cluster_store_default


def test_the_docstring_gives_the_store_default_with_and_without_a_namespace():
    said = " ".join((kfp_tune.submit_function.__doc__ or "").split())
    assert f"``{cluster_store_default(None)}``" in said, said
    assert f"``{cluster_store_default('NS')}``" in said and "``namespace=NS``" in said, said
