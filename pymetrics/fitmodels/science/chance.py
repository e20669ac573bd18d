"""Chance level of a fit model, in a module light enough for every process to import.

The services refuse a model whose cross-validated AUC interval reaches chance
without loading scikit-learn, which :mod:`.debiasing` and :mod:`.training` need.
"""

from __future__ import annotations

#: The AUC of a model that tells no one apart: a version whose cross-validated AUC
#: interval reaches it shows no validity, however fair its audit.
CHANCE_AUC = 0.5
