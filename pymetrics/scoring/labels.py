"""Names of traits and of their poles as every page and report shows them (translatable).

The trait map keys them; the staff pages, the reports and the exports all use these
words, so they live with the trait maps, below each of them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

TRAIT_LABELS = {
    "attention": gettext_lazy("Attention"),
    "decision_making": gettext_lazy("Decision making"),
    "effort": gettext_lazy("Effort"),
    "emotion": gettext_lazy("Emotion"),
    "fairness": gettext_lazy("Fairness"),
    "focus": gettext_lazy("Focus"),
    "generosity": gettext_lazy("Generosity"),
    "learning": gettext_lazy("Learning"),
    "risk_tolerance": gettext_lazy("Risk tolerance"),
}
POLE_LABELS = {
    "focused": gettext_lazy("focused"),
    "broad": gettext_lazy("broad"),
    "deliberate": gettext_lazy("deliberate"),
    "instinctive": gettext_lazy("instinctive"),
    "persistent": gettext_lazy("persistent"),
    "economical": gettext_lazy("economical"),
    "face-reading": gettext_lazy("face-reading"),
    "context-reading": gettext_lazy("context-reading"),
    "fairness-driven": gettext_lazy("fairness-driven"),
    "pragmatic": gettext_lazy("pragmatic"),
    "controlled": gettext_lazy("controlled"),
    "spontaneous": gettext_lazy("spontaneous"),
    "giving": gettext_lazy("giving"),
    "self-focused": gettext_lazy("self-focused"),
    "feedback-led": gettext_lazy("feedback-led"),
    "exploratory": gettext_lazy("exploratory"),
    "risk-seeking": gettext_lazy("risk-seeking"),
    "cautious": gettext_lazy("cautious"),
}


def trait_label(name: str) -> str:
    return str(TRAIT_LABELS.get(name, name.replace("_", " ")))


def pole_label(name: str) -> str:
    return str(POLE_LABELS.get(name, name))
