"""The reports' own words for poles and norm populations (translatable).

The trait and pole names are the ones every page uses
(:mod:`pymetrics.scoring.labels`). :data:`POLE_MEANINGS` is the reports' own: one
plain, neutral sentence per pole for the candidate, saying what lies towards it
without calling either end better.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

#: Pole -> what people towards it tended to do in the games, in the candidate's words.
POLE_MEANINGS = {
    "focused": gettext_lazy(
        "People towards focused tended to hold more in mind at once and to keep their "
        "attention on the task among distractions."
    ),
    "broad": gettext_lazy(
        "People towards broad tended to take in more of what surrounded the task, "
        "including things outside it."
    ),
    "deliberate": gettext_lazy(
        "People towards deliberate tended to take more time to plan before acting."
    ),
    "instinctive": gettext_lazy(
        "People towards instinctive tended to act quickly and adjust along the way."
    ),
    "persistent": gettext_lazy(
        "People towards persistent tended to take on the harder task for a larger reward "
        "and to keep up a fast pace."
    ),
    "economical": gettext_lazy(
        "People towards economical tended to save their effort for where it clearly paid off."
    ),
    "face-reading": gettext_lazy(
        "People towards face-reading tended to name the feeling a face showed quickly and "
        "in agreement with the expression drawn."
    ),
    "context-reading": gettext_lazy(
        "People towards context-reading tended to take more time over faces, or to read "
        "them differently from the expression drawn, as people do who rely more on the "
        "situation around a face."
    ),
    "fairness-driven": gettext_lazy(
        "People towards fairness-driven tended to turn down uneven offers and to make even ones."
    ),
    "pragmatic": gettext_lazy(
        "People towards pragmatic tended to accept offers whatever the split and to keep "
        "more when making offers."
    ),
    "controlled": gettext_lazy(
        "People towards controlled tended to hold back a response once it was under way "
        "and to keep a steady rhythm."
    ),
    "spontaneous": gettext_lazy(
        "People towards spontaneous tended to respond readily and with a more varied rhythm."
    ),
    "giving": gettext_lazy("People towards giving tended to share more of what they held."),
    "self-focused": gettext_lazy(
        "People towards self-focused tended to keep a larger share of what they held."
    ),
    "feedback-led": gettext_lazy(
        "People towards feedback-led tended to move their choices quickly towards what "
        "had paid off."
    ),
    "exploratory": gettext_lazy(
        "People towards exploratory tended to keep trying different options, also after "
        "some had paid off."
    ),
    "risk-seeking": gettext_lazy(
        "People towards risk-seeking tended to accept more uncertainty for the chance of "
        "a larger reward."
    ),
    "cautious": gettext_lazy(
        "People towards cautious tended to secure rewards before risking them."
    ),
}
POPULATION_LABELS = {
    "assessment": gettext_lazy("an assessment's completed candidates"),
    "organisation": gettext_lazy("the organisation's completed candidates"),
    "simulated": gettext_lazy("simulated reference population (bots)"),
}


def pole_meaning(name: str) -> str:
    return str(POLE_MEANINGS.get(name, ""))


def population_label(population: str) -> str:
    return str(POPULATION_LABELS.get(population, population))
