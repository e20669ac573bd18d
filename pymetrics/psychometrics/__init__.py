"""Trait mathematics (SCIENCE.md section 2): trait map, norm tables, trait scores, reliability.

Pure numpy/pandas, no Django: metrics in (a wide frame, one row per person, columns
``"game.metric"``, NaN = absent), norm tables and trait scores out. The Django side
stores and serves what these functions compute.
"""

from pymetrics.psychometrics.inference import (
    INTERVAL_Z,
    Z_CLIP,
    infer_traits,
    metric_z_scores,
    trait_raw_scores,
)
from pymetrics.psychometrics.norms import (
    PERCENTILES,
    Distribution,
    NormTableData,
    build_norms,
    metric_distribution,
)
from pymetrics.psychometrics.reliability import (
    reliabilities_with_defaults,
    spearman_brown,
    split_half_reliability,
    split_trials_odd_even,
)
from pymetrics.psychometrics.trait_map import (
    Trait,
    TraitMap,
    TraitMapError,
    TraitMetric,
    load_trait_map,
)

__all__ = [
    "INTERVAL_Z",
    "PERCENTILES",
    "Z_CLIP",
    "Distribution",
    "NormTableData",
    "Trait",
    "TraitMap",
    "TraitMapError",
    "TraitMetric",
    "build_norms",
    "infer_traits",
    "load_trait_map",
    "metric_distribution",
    "metric_z_scores",
    "reliabilities_with_defaults",
    "spearman_brown",
    "split_half_reliability",
    "split_trials_odd_even",
    "trait_raw_scores",
]
