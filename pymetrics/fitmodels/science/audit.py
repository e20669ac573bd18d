"""The bias audit of a selection outcome (SCIENCE.md section 4).

A job-fit model may only be activated when its pass decisions (a pass = score >=
threshold) show no adverse impact on any self-reported group. This module takes the
pass decisions and the group labels as plain arrays and returns an `AuditReport`:

- per attribute (gender, ethnicity, age_40_plus, ... and intersections such as
  ``"gender x ethnicity"``): per group n, passes, pass rate and impact ratio (pass rate
  / the highest ruled-on group's pass rate), and the 4/5ths rule of the US Uniform
  Guidelines on Employee Selection Procedures (1978), section 4D;
- between the lowest- and the highest-passing ruled-on groups: a two-sided
  two-proportion z-test (pooled proportion) and a two-sided Fisher's exact test;
- over all ruled-on groups: a chi-square test of independence (Yates' correction
  only for a 2x2 table, as ``scipy.stats.chi2_contingency`` and audit-AI) and the
  Gunel & Dickey (1974) Bayes factor BF10 for dependence between group and pass;
- across strata (region, period, ...): the Cochran-Mantel-Haenszel test with the
  Mantel-Haenszel common odds ratio, and the Breslow-Day test of homogeneous odds
  ratios (reported without and with Tarone's correction).

Groups with fewer than ``min_group_size`` (30) people are reported but not ruled on:
they take no part in the 4/5ths rule or the tests. People who did not report a group
for an attribute (None, "" or NaN) are left out of that attribute's audit only, and
counted. Pure numpy/scipy/pandas: the Django side stores and serves the report.

Decisions where SCIENCE.md leaves a choice open:
- An attribute with fewer than two ruled-on groups, or whose ruled-on groups all have
  a pass rate of 0 (impact ratios 0/0), cannot be ruled on: ``four_fifths_pass`` is
  None with a plain-language ``reason``. `AuditReport.passed` is True unless some
  attribute that *can* be ruled on fails; `AuditReport.unruled_attributes` lists the
  others so a caller gating activation can refuse them too.
- The rule is decided in integers (5 x passes x top n >= 4 x top passes x n), so an
  impact ratio of exactly 4/5 passes despite float rounding.
- BF10 > 1 favours a group difference over none (> 3: evidence of a difference, < 1/3:
  evidence of none). Groups are the fixed margin (independent binomials), a = 1.
- The odds ratios of the CMH part are the odds of passing in the lowest-passing group
  relative to the highest-passing one (< 1 when the lowest group is disadvantaged).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

MIN_GROUP_SIZE = 30
FOUR_FIFTHS = 0.8
# Jeffreys' conventional boundary: BF10 above 3 is evidence of a difference in pass
# rates between groups, below 1/3 evidence of no difference.
BAYES_FACTOR_EVIDENCE = 3.0
INTERSECTION_SEPARATOR = " x "
CONFIDENCE_LEVEL = 0.95


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


def _finite_or_none(value: float | None) -> float | None:
    """A plain float for JSON, or None for a number that does not exist (NaN, inf)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class GroupOutcome:
    """One group's pass figures within one attribute."""

    label: str
    n: int
    passes: int
    pass_rate: float
    # pass rate / the highest ruled-on group's pass rate; None when that rate is 0
    # (0/0) or when no group of the attribute is ruled on.
    impact_ratio: float | None
    ruled_on: bool
    # impact ratio >= 0.8; None when the group is not ruled on or the attribute
    # cannot be ruled on.
    four_fifths_pass: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "passes": self.passes,
            "pass_rate": self.pass_rate,
            "impact_ratio": _finite_or_none(self.impact_ratio),
            "ruled_on": self.ruled_on,
            "four_fifths_pass": self.four_fifths_pass,
        }


@dataclass(frozen=True)
class CochranMantelHaenszel:
    """CMH and Breslow-Day over per-stratum 2x2 tables (rows: two groups; cols: pass, fail).

    ``common_odds_ratio`` is the Mantel-Haenszel estimate of the odds of passing in the
    first row relative to the second; ``chi2`` is the CMH statistic with R's
    ``mantelhaen.test`` default continuity correction; the confidence interval is the
    Robins-Breslow-Greenland one R reports. Breslow-Day tests whether the strata share
    that odds ratio; Tarone's (1985) correction is reported beside it.
    """

    strata_used: int
    strata_skipped: int
    common_odds_ratio: float | None
    odds_ratio_ci_low: float | None
    odds_ratio_ci_high: float | None
    chi2: float | None
    p: float | None
    breslow_day_chi2: float | None
    breslow_day_dof: int | None
    breslow_day_p: float | None
    tarone_chi2: float | None
    tarone_p: float | None

    @classmethod
    def undefined(cls, *, strata_used: int, strata_skipped: int) -> CochranMantelHaenszel:
        """No figures: no informative stratum, or an odds ratio of 0 or infinity."""
        return cls(
            strata_used=strata_used,
            strata_skipped=strata_skipped,
            common_odds_ratio=None,
            odds_ratio_ci_low=None,
            odds_ratio_ci_high=None,
            chi2=None,
            p=None,
            breslow_day_chi2=None,
            breslow_day_dof=None,
            breslow_day_p=None,
            tarone_chi2=None,
            tarone_p=None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "strata_used": self.strata_used,
            "strata_skipped": self.strata_skipped,
            "common_odds_ratio": _finite_or_none(self.common_odds_ratio),
            "odds_ratio_ci_low": _finite_or_none(self.odds_ratio_ci_low),
            "odds_ratio_ci_high": _finite_or_none(self.odds_ratio_ci_high),
            "chi2": _finite_or_none(self.chi2),
            "dof": 1,
            "p": _finite_or_none(self.p),
            "continuity_correction": True,
            "breslow_day_chi2": _finite_or_none(self.breslow_day_chi2),
            "breslow_day_dof": self.breslow_day_dof,
            "breslow_day_p": _finite_or_none(self.breslow_day_p),
            "breslow_day_tarone_chi2": _finite_or_none(self.tarone_chi2),
            "breslow_day_tarone_p": _finite_or_none(self.tarone_p),
        }


@dataclass(frozen=True)
class StratifiedAudit:
    """The CMH / Breslow-Day part of one attribute's audit, with what was left out."""

    stratum_column_people: int  # people of the two compared groups with a stratum
    people_without_stratum: int
    test: CochranMantelHaenszel | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        test = self.test or CochranMantelHaenszel.undefined(strata_used=0, strata_skipped=0)
        return {
            **test.to_dict(),
            "odds_ratio_direction": "odds of passing, lowest- vs highest-passing group",
            "n": self.stratum_column_people,
            "n_without_stratum": self.people_without_stratum,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class AttributeAudit:
    """The audit of one attribute (or one intersection of attributes)."""

    attribute: str
    groups: tuple[GroupOutcome, ...]
    n: int  # people with a reported group
    n_not_reported: int
    # The 4/5ths rule over ruled-on groups; None when it cannot be ruled on (fewer than
    # two ruled-on groups, or no ruled-on group has a pass) - see `reason`.
    four_fifths_pass: bool | None
    reason: str | None
    lowest_group: str | None
    highest_group: str | None
    min_impact_ratio: float | None
    z: float | None  # (lowest rate - highest rate) / pooled SE: <= 0
    z_test_p: float | None
    fisher_odds_ratio: float | None
    fisher_p: float | None
    chi2: float | None
    chi2_dof: int | None
    chi2_p: float | None
    chi2_yates: bool | None
    log_bayes_factor: float | None  # natural log of BF10
    cmh: StratifiedAudit | None
    notes: tuple[str, ...]

    @property
    def bayes_factor(self) -> float | None:
        """BF10: the data are this many times as likely if pass rates differ by group."""
        # Beyond e^709 a float overflows: log10_bayes_factor in to_dict() still says it.
        if self.log_bayes_factor is None or self.log_bayes_factor > 709.0:
            return None
        return math.exp(self.log_bayes_factor)

    @property
    def bayes_factor_evidence(self) -> str | None:
        if self.log_bayes_factor is None:
            return None
        if self.log_bayes_factor > math.log(BAYES_FACTOR_EVIDENCE):
            return "difference"
        if self.log_bayes_factor < -math.log(BAYES_FACTOR_EVIDENCE):
            return "no difference"
        return "inconclusive"

    @property
    def ruled_on(self) -> bool:
        return self.four_fifths_pass is not None

    def to_dict(self) -> dict[str, Any]:
        audit: dict[str, Any] = {
            "groups": {group.label: group.to_dict() for group in self.groups},
            "four_fifths_pass": self.four_fifths_pass,
            "z_test_p": _finite_or_none(self.z_test_p),
            "fisher_p": _finite_or_none(self.fisher_p),
            "chi2_p": _finite_or_none(self.chi2_p),
            "bayes_factor": self.bayes_factor,
            "n": self.n,
            "n_not_reported": self.n_not_reported,
            "groups_ruled_on": sum(group.ruled_on for group in self.groups),
            "reason": self.reason,
            "lowest_group": self.lowest_group,
            "highest_group": self.highest_group,
            "min_impact_ratio": _finite_or_none(self.min_impact_ratio),
            "z": _finite_or_none(self.z),
            "fisher_odds_ratio": _finite_or_none(self.fisher_odds_ratio),
            "chi2": _finite_or_none(self.chi2),
            "chi2_dof": self.chi2_dof,
            "chi2_yates": self.chi2_yates,
            "log10_bayes_factor": (
                None
                if self.log_bayes_factor is None
                else _finite_or_none(self.log_bayes_factor / math.log(10))
            ),
            "bayes_factor_direction": "BF10: evidence for a group difference over none",
            "bayes_factor_evidence": self.bayes_factor_evidence,
            "notes": list(self.notes),
        }
        if self.cmh is not None:
            audit["cmh"] = self.cmh.to_dict()
        return audit


@dataclass(frozen=True)
class AuditReport:
    """The whole audit: one `AttributeAudit` per attribute and intersection."""

    attributes: tuple[AttributeAudit, ...]
    n: int
    passes: int
    threshold: float | None
    min_group_size: int
    stratified: bool

    @property
    def passed(self) -> bool:
        """The 4/5ths rule holds for every attribute that can be ruled on."""
        return all(audit.four_fifths_pass is not False for audit in self.attributes)

    @property
    def unruled_attributes(self) -> tuple[str, ...]:
        """Attributes the 4/5ths rule could not be applied to (see each one's reason)."""
        return tuple(audit.attribute for audit in self.attributes if not audit.ruled_on)

    def attribute(self, name: str) -> AttributeAudit:
        for audit in self.attributes:
            if audit.attribute == name:
                return audit
        raise KeyError(name)

    def worst_failing_pair(self) -> tuple[str, str, str] | None:
        """(attribute, lowest-passing group, highest-passing group) of the failing
        attribute with the lowest impact ratio; None when the audit passes."""
        failing = [
            audit
            for audit in self.attributes
            if audit.four_fifths_pass is False
            and audit.lowest_group is not None
            and audit.highest_group is not None
            and audit.min_impact_ratio is not None
        ]
        if not failing:
            return None
        # min() keeps the first of equal ratios: attribute order breaks ties.
        worst = min(failing, key=lambda audit: audit.min_impact_ratio or 0.0)
        assert worst.lowest_group is not None
        assert worst.highest_group is not None
        return (worst.attribute, worst.lowest_group, worst.highest_group)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "n": self.n,
            "passes": self.passes,
            "pass_rate": self.passes / self.n if self.n else None,
            "threshold": _finite_or_none(self.threshold),
            "min_group_size": self.min_group_size,
            "four_fifths": FOUR_FIFTHS,
            "stratified": self.stratified,
            "unruled_attributes": list(self.unruled_attributes),
            "worst_failing_pair": (
                list(pair) if (pair := self.worst_failing_pair()) is not None else None
            ),
            "attributes": {audit.attribute: audit.to_dict() for audit in self.attributes},
        }


# --------------------------------------------------------------------------------------
# The tests on count tables
# --------------------------------------------------------------------------------------


def passes_at(*, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Pass decisions at a threshold: a pass is score >= threshold (SCIENCE.md 4)."""
    score_values = np.asarray(scores, dtype=float)
    if not np.all(np.isfinite(score_values)):
        raise ValueError("scores must be finite numbers")
    if not math.isfinite(threshold):
        raise ValueError("threshold must be a finite number")
    return np.asarray(score_values >= threshold, dtype=bool)


def two_proportion_z_test(
    *, passes_a: int, n_a: int, passes_b: int, n_b: int
) -> tuple[float | None, float | None]:
    """Two-sided z-test of equal pass rates with the pooled proportion: (z, p).

    z = (rate_a - rate_b) / sqrt(p(1 - p)(1/n_a + 1/n_b)), p the pooled rate. When
    everyone or no one passed the standard error is 0 and both are None.
    """
    if n_a == 0 or n_b == 0:
        return None, None
    pooled = (passes_a + passes_b) / (n_a + n_b)
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if standard_error == 0.0:
        return None, None
    z = (passes_a / n_a - passes_b / n_b) / standard_error
    return z, float(2.0 * stats.norm.sf(abs(z)))


def _log_dirichlet(alphas: np.ndarray) -> float:
    """log of the multivariate Beta function B(alphas)."""
    return float(np.sum(special.gammaln(alphas)) - special.gammaln(np.sum(alphas)))


def log_bayes_factor_independence(*, table: np.ndarray, prior_concentration: float = 1.0) -> float:
    """ln BF10 for dependence between rows and columns, rows' totals fixed.

    Gunel & Dickey (1974) eq. 4.7, independent multinomial sampling (each group a
    multinomial over pass/fail), as ``contingencyTableBF(x, sampleType = "indepMulti",
    fixedMargin = "rows")`` in R's BayesFactor package (Jamil et al. 2017, Behav Res
    Methods 49:638). With the default a = 1 it reduces to uniform Beta priors: H1 gives
    each group its own pass rate, H0 one shared rate. BF10 > 1 favours a difference.
    """
    counts = np.asarray(table, dtype=float)
    rows = counts.shape[0]
    prior = np.full_like(counts, prior_concentration)
    prior_cols = prior.sum(axis=0) - (rows - 1)
    prior_rows = prior.sum(axis=1)
    return (
        _log_dirichlet(prior_cols)
        + _log_dirichlet(prior_rows)
        + _log_dirichlet((counts + prior).ravel())
        - _log_dirichlet(counts.sum(axis=0) + prior_cols)
        - _log_dirichlet(counts.sum(axis=1) + prior_rows)
        - _log_dirichlet(prior.ravel())
    )


def _breslow_day_expected(*, row_1: float, row_2: float, col_1: float, odds_ratio: float) -> float:
    """The first cell that gives a table with these margins the given odds ratio.

    Solves e (row_2 - col_1 + e) = OR (row_1 - e)(col_1 - e) for e between
    max(0, col_1 - row_2) and min(row_1, col_1) (Breslow & Day 1980, section 4.4).
    """
    low = max(0.0, col_1 - row_2)
    high = min(row_1, col_1)
    if odds_ratio == 1.0:
        return row_1 * col_1 / (row_1 + row_2)
    quadratic = 1.0 - odds_ratio
    linear = row_2 - col_1 + odds_ratio * (row_1 + col_1)
    constant = -odds_ratio * row_1 * col_1
    root = math.sqrt(linear * linear - 4.0 * quadratic * constant)
    for candidate in ((-linear + root) / (2.0 * quadratic), (-linear - root) / (2.0 * quadratic)):
        if low - 1e-9 <= candidate <= high + 1e-9:
            return min(max(candidate, low), high)
    raise ArithmeticError("no admissible root for the Breslow-Day expected count")


def cochran_mantel_haenszel(*, tables: np.ndarray) -> CochranMantelHaenszel:
    """CMH test, Mantel-Haenszel common odds ratio and Breslow-Day over 2x2xK tables.

    ``tables`` has shape (K, 2, 2): per stratum [[a, b], [c, d]]. Matches R's
    ``mantelhaen.test(x, correct = TRUE)`` (the 0.5 continuity correction applies only
    when |sum(a - E[a])| >= 0.5, as R does). Strata with fewer than two people carry no
    information and are skipped (R refuses them). Breslow-Day uses the strata whose
    margins leave the first cell free, with dof = those strata - 1.
    """
    counts = np.asarray(tables, dtype=float)
    if counts.ndim != 3 or counts.shape[1:] != (2, 2):
        raise ValueError("tables must have shape (strata, 2, 2)")
    totals = counts.sum(axis=(1, 2))
    informative = totals >= 2
    skipped = int(np.sum(~informative))
    counts = counts[informative]
    totals = totals[informative]
    empty = CochranMantelHaenszel.undefined(
        strata_used=int(counts.shape[0]), strata_skipped=skipped
    )
    if counts.shape[0] == 0:
        return empty
    a, b = counts[:, 0, 0], counts[:, 0, 1]
    c, d = counts[:, 1, 0], counts[:, 1, 1]
    row_1, row_2 = a + b, c + d
    col_1, col_2 = a + c, b + d

    delta = float(np.sum(a - row_1 * col_1 / totals))
    variance = float(np.sum(row_1 * row_2 * col_1 * col_2 / (totals**2 * (totals - 1))))
    chi2: float | None = None
    p: float | None = None
    if variance > 0:
        yates = 0.5 if abs(delta) >= 0.5 else 0.0
        chi2 = (abs(delta) - yates) ** 2 / variance
        p = float(stats.chi2.sf(chi2, 1))

    concordant = a * d / totals
    discordant = b * c / totals
    sum_concordant = float(np.sum(concordant))
    sum_discordant = float(np.sum(discordant))
    if sum_concordant == 0.0 or sum_discordant == 0.0:
        # An odds ratio of 0 or infinity: no interval and no homogeneity test.
        return dataclasses.replace(
            empty,
            common_odds_ratio=0.0 if sum_concordant == 0.0 and sum_discordant > 0 else None,
            chi2=chi2,
            p=p,
        )
    odds_ratio = sum_concordant / sum_discordant
    # Robins, Breslow & Greenland (1986) variance of log OR, as R's mantelhaen.test.
    agree = (a + d) / totals
    disagree = (b + c) / totals
    log_variance = (
        float(np.sum(agree * concordant)) / (2 * sum_concordant**2)
        + float(np.sum(agree * discordant + disagree * concordant))
        / (2 * sum_concordant * sum_discordant)
        + float(np.sum(disagree * discordant)) / (2 * sum_discordant**2)
    )
    half_width = float(stats.norm.ppf((1 + CONFIDENCE_LEVEL) / 2)) * math.sqrt(log_variance)
    ci_low = math.exp(math.log(odds_ratio) - half_width)
    ci_high = math.exp(math.log(odds_ratio) + half_width)

    observed: list[float] = []
    expected: list[float] = []
    variances: list[float] = []
    for stratum in range(counts.shape[0]):
        r1, r2, c1 = float(row_1[stratum]), float(row_2[stratum]), float(col_1[stratum])
        if max(0.0, c1 - r2) >= min(r1, c1):
            continue  # margins fix the first cell: nothing to test
        fitted = _breslow_day_expected(row_1=r1, row_2=r2, col_1=c1, odds_ratio=odds_ratio)
        cells = (fitted, r1 - fitted, c1 - fitted, r2 - c1 + fitted)
        if min(cells) <= 0.0:
            continue
        observed.append(float(a[stratum]))
        expected.append(fitted)
        variances.append(1.0 / sum(1.0 / cell for cell in cells))
    breslow_day_chi2: float | None = None
    breslow_day_dof: int | None = None
    breslow_day_p: float | None = None
    tarone_chi2: float | None = None
    tarone_p: float | None = None
    if len(observed) >= 2:
        residuals = np.asarray(observed) - np.asarray(expected)
        stratum_variances = np.asarray(variances)
        breslow_day_chi2 = float(np.sum(residuals**2 / stratum_variances))
        breslow_day_dof = len(observed) - 1
        breslow_day_p = float(stats.chi2.sf(breslow_day_chi2, breslow_day_dof))
        tarone_chi2 = breslow_day_chi2 - float(np.sum(residuals)) ** 2 / float(
            np.sum(stratum_variances)
        )
        tarone_p = float(stats.chi2.sf(tarone_chi2, breslow_day_dof))
    return CochranMantelHaenszel(
        strata_used=empty.strata_used,
        strata_skipped=skipped,
        common_odds_ratio=odds_ratio,
        odds_ratio_ci_low=ci_low,
        odds_ratio_ci_high=ci_high,
        chi2=chi2,
        p=p,
        breslow_day_chi2=breslow_day_chi2,
        breslow_day_dof=breslow_day_dof,
        breslow_day_p=breslow_day_p,
        tarone_chi2=tarone_chi2,
        tarone_p=tarone_p,
    )


# --------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------


def _label_or_none(value: object) -> str | None:
    """A group label, or None for 'not reported' (None, blank, NaN)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            # pandas reads a 0/1 column with blanks as floats: label 1.0 as "1".
            return str(int(value))
    label = str(value).strip()
    return label or None


def _meets_four_fifths(group: Sequence[int], top: Sequence[int]) -> bool:
    """(passes/n) / (top passes/top n) >= 4/5, in integers so 0.8 itself is a pass."""
    n, passes = group
    top_n, top_passes = top
    return 5 * passes * top_n >= 4 * top_passes * n


def _pass_decisions(passed: np.ndarray) -> np.ndarray:
    decisions = np.asarray(passed)
    if decisions.ndim != 1:
        raise ValueError("passed must be a one-dimensional array")
    if decisions.dtype == bool:
        return decisions
    if decisions.size and not np.all(np.isin(decisions, (0, 1))):
        raise ValueError("passed must hold booleans (or 0/1)")
    return decisions.astype(bool)


def _audit_attribute(
    *,
    attribute: str,
    labels: Sequence[str | None],
    decisions: np.ndarray,
    strata: Sequence[str | None] | None,
    min_group_size: int,
) -> AttributeAudit:
    reported = [index for index, label in enumerate(labels) if label is not None]
    counts: dict[str, list[int]] = {}
    for index in reported:
        label = labels[index]
        assert label is not None
        tally = counts.setdefault(label, [0, 0])
        tally[0] += 1
        tally[1] += int(decisions[index])
    ruled_labels = [label for label, (n, _) in counts.items() if n >= min_group_size]
    rate = {label: passes / n for label, (n, passes) in counts.items()}
    # Lowest/highest by pass rate; ties broken by label so the pair is reproducible.
    ordered = sorted(ruled_labels, key=lambda label: (rate[label], label))
    top_rate = rate[ordered[-1]] if ordered else None

    notes: list[str] = []
    small = sorted(label for label, (n, _) in counts.items() if n < min_group_size)
    if small:
        notes.append(
            f"Groups under {min_group_size} people are reported but not ruled on: "
            + ", ".join(small)
            + "."
        )
    not_reported = len(labels) - len(reported)
    if not_reported:
        notes.append(f"{not_reported} people did not report a group and are left out.")

    reason: str | None = None
    if len(ordered) < 2:
        reason = (
            f"Fewer than two groups have {min_group_size} or more people, so there is "
            "nothing to compare: the 4/5ths rule cannot be ruled on."
        )
    elif top_rate == 0.0:
        reason = (
            "No one in a ruled-on group passed: impact ratios are 0/0, so the 4/5ths "
            "rule cannot be ruled on."
        )

    groups: list[GroupOutcome] = []
    for label in sorted(counts, key=lambda label: (-counts[label][0], label)):
        n, passes = counts[label]
        ratio = rate[label] / top_rate if top_rate else None
        is_ruled = label in ruled_labels
        groups.append(
            GroupOutcome(
                label=label,
                n=n,
                passes=passes,
                pass_rate=rate[label],
                impact_ratio=ratio,
                ruled_on=is_ruled,
                four_fifths_pass=(
                    _meets_four_fifths(counts[label], counts[ordered[-1]])
                    if reason is None and is_ruled
                    else None
                ),
            )
        )

    four_fifths_pass: bool | None = None
    min_impact_ratio: float | None = None
    lowest = ordered[0] if len(ordered) >= 2 else None
    highest = ordered[-1] if len(ordered) >= 2 else None
    if reason is None and lowest is not None and top_rate:
        min_impact_ratio = rate[lowest] / top_rate
        four_fifths_pass = _meets_four_fifths(counts[lowest], counts[ordered[-1]])
        verdict = "holds" if four_fifths_pass else "fails"
        notes.append(
            f"The 4/5ths rule {verdict}: {lowest} passes at {min_impact_ratio:.2f} times "
            f"the rate of {highest}."
        )

    z = z_p = fisher_or = fisher_p = chi2 = chi2_p = log_bf = None
    chi2_dof: int | None = None
    chi2_yates: bool | None = None
    cmh: StratifiedAudit | None = None
    if lowest is not None and highest is not None:
        n_low, passes_low = counts[lowest]
        n_high, passes_high = counts[highest]
        z, z_p = two_proportion_z_test(
            passes_a=passes_low, n_a=n_low, passes_b=passes_high, n_b=n_high
        )
        pair_table = np.array(
            [[passes_low, n_low - passes_low], [passes_high, n_high - passes_high]]
        )
        fisher = stats.fisher_exact(pair_table, alternative="two-sided")
        fisher_or, fisher_p = float(fisher.statistic), float(fisher.pvalue)

        ruled_table = np.array(
            [[counts[label][1], counts[label][0] - counts[label][1]] for label in ordered]
        )
        log_bf = log_bayes_factor_independence(table=ruled_table)
        if np.all(ruled_table.sum(axis=0) > 0):
            chi2_result = stats.chi2_contingency(ruled_table, correction=True)
            chi2 = float(chi2_result.statistic)
            chi2_p = float(chi2_result.pvalue)
            chi2_dof = int(chi2_result.dof)
            chi2_yates = chi2_dof == 1
        else:
            notes.append(
                "Everyone (or no one) in the ruled-on groups passed: the z-test and the "
                "chi-square test are undefined."
            )
        if z_p is not None and z_p < 0.05:
            notes.append(f"The pass-rate difference {lowest} vs {highest} is significant.")

        if strata is not None:
            cmh = _stratified_audit(
                labels=labels,
                decisions=decisions,
                strata=strata,
                lowest=lowest,
                highest=highest,
            )

    return AttributeAudit(
        attribute=attribute,
        groups=tuple(groups),
        n=len(reported),
        n_not_reported=not_reported,
        four_fifths_pass=four_fifths_pass,
        reason=reason,
        lowest_group=lowest,
        highest_group=highest,
        min_impact_ratio=min_impact_ratio,
        z=z,
        z_test_p=z_p,
        fisher_odds_ratio=fisher_or,
        fisher_p=fisher_p,
        chi2=chi2,
        chi2_dof=chi2_dof,
        chi2_p=chi2_p,
        chi2_yates=chi2_yates,
        log_bayes_factor=log_bf,
        cmh=cmh,
        notes=tuple(notes),
    )


def _stratified_audit(
    *,
    labels: Sequence[str | None],
    decisions: np.ndarray,
    strata: Sequence[str | None],
    lowest: str,
    highest: str,
) -> StratifiedAudit:
    """CMH / Breslow-Day for the lowest- vs highest-passing group across strata."""
    tables: dict[str, np.ndarray] = {}
    without_stratum = 0
    with_stratum = 0
    for index, label in enumerate(labels):
        if label not in (lowest, highest):
            continue
        stratum = strata[index]
        if stratum is None:
            without_stratum += 1
            continue
        with_stratum += 1
        table = tables.setdefault(stratum, np.zeros((2, 2), dtype=int))
        row = 0 if label == lowest else 1
        col = 0 if decisions[index] else 1
        table[row, col] += 1
    notes: list[str] = []
    if without_stratum:
        notes.append(f"{without_stratum} people without a stratum are left out of the CMH.")
    if not tables:
        notes.append("No one in the two compared groups has a stratum.")
        return StratifiedAudit(
            stratum_column_people=0,
            people_without_stratum=without_stratum,
            test=None,
            notes=tuple(notes),
        )
    test = cochran_mantel_haenszel(tables=np.stack([tables[key] for key in sorted(tables)]))
    if test.breslow_day_p is not None and test.breslow_day_p < 0.05:
        notes.append(
            "Breslow-Day: the odds ratio differs between strata, so the common odds "
            "ratio summarises unlike strata."
        )
    if test.p is not None and test.p < 0.05:
        notes.append(f"Within strata, {lowest} passes significantly less often than {highest}.")
    return StratifiedAudit(
        stratum_column_people=with_stratum,
        people_without_stratum=without_stratum,
        test=test,
        notes=tuple(notes),
    )


def audit_outcomes(
    *,
    passed: np.ndarray,
    groups: Mapping[str, Sequence[str | None]],
    strata: Sequence[str | None] | None = None,
    intersections: Sequence[tuple[str, ...]] = (),
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float | None = None,
) -> AuditReport:
    """Audit pass decisions for adverse impact on each attribute's groups.

    ``passed`` holds one decision per person; ``groups`` maps each attribute to one label
    per person (None, "" or NaN: not reported); ``strata`` optionally one stratum per
    person for CMH / Breslow-Day; each tuple in ``intersections`` names attributes whose
    cross-product is audited as the attribute ``"a x b"`` (a person with any part not
    reported is left out of it). ``threshold`` is only recorded in the report.

    Raises ValueError for an empty audit, arrays of different lengths, or an
    intersection naming an unknown attribute.
    """
    decisions = _pass_decisions(passed)
    size = decisions.shape[0]
    if size == 0:
        raise ValueError("the audit needs at least one person")
    if min_group_size < 1:
        raise ValueError("min_group_size must be at least 1")
    labels_by_attribute: dict[str, list[str | None]] = {}
    for attribute, labels in groups.items():
        if len(labels) != size:
            raise ValueError(f"attribute {attribute!r} has {len(labels)} labels for {size} people")
        labels_by_attribute[attribute] = [_label_or_none(label) for label in labels]
    for combination in intersections:
        if len(set(combination)) < 2:
            raise ValueError(
                f"an intersection needs two or more different attributes: {combination!r}"
            )
        unknown = [name for name in combination if name not in labels_by_attribute]
        if unknown:
            raise ValueError(f"intersection {combination!r} names unknown attributes {unknown}")
        name = INTERSECTION_SEPARATOR.join(combination)
        if name in labels_by_attribute:
            raise ValueError(f"intersection {name!r} is already an attribute")
        parts = [labels_by_attribute[attribute] for attribute in combination]
        labels_by_attribute[name] = [
            None
            if any(part is None for part in person)
            else INTERSECTION_SEPARATOR.join(part for part in person if part is not None)
            for person in zip(*parts, strict=True)
        ]
    stratum_labels: list[str | None] | None = None
    if strata is not None:
        if len(strata) != size:
            raise ValueError(f"strata has {len(strata)} labels for {size} people")
        stratum_labels = [_label_or_none(stratum) for stratum in strata]

    audits = tuple(
        _audit_attribute(
            attribute=attribute,
            labels=labels,
            decisions=decisions,
            strata=stratum_labels,
            min_group_size=min_group_size,
        )
        for attribute, labels in labels_by_attribute.items()
    )
    return AuditReport(
        attributes=audits,
        n=size,
        passes=int(decisions.sum()),
        threshold=threshold,
        min_group_size=min_group_size,
        stratified=strata is not None,
    )


# --------------------------------------------------------------------------------------
# Selection outcome files (`audit_model --scores PATH`)
# --------------------------------------------------------------------------------------

PARTICIPANT_COLUMN = "participant"
SCORE_COLUMN = "score"
PASSED_COLUMN = "passed"
_PASSED_VALUES = {"1": True, "0": False, "true": True, "false": False}


class OutcomeFileError(ValueError):
    """A bad value in a selection outcome file, naming its row and column.

    ``row`` is the 1-based data row (the CSV line is ``row + 1`` under the header), or
    None when the problem is a whole column.
    """

    def __init__(self, *, column: str, reason: str, row: int | None = None) -> None:
        self.column = column
        self.reason = reason
        self.row = row
        where = f"row {row} (line {row + 1}): " if row is not None else ""
        super().__init__(f"{where}column {column}: {reason}")


def _is_missing(value: object) -> bool:
    return _label_or_none(value) is None


def _parse_passed(value: object, *, row: int) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer) and int(value) in (0, 1):
        return bool(int(value))
    if isinstance(value, float | np.floating) and float(value) in (0.0, 1.0):
        return bool(float(value))
    text = "" if _is_missing(value) else str(value).strip().lower()
    if text in _PASSED_VALUES:
        return _PASSED_VALUES[text]
    shown = "an empty value" if not text else repr(value)
    raise OutcomeFileError(column=PASSED_COLUMN, row=row, reason=f"{shown} is not 0/1/true/false")


def _parse_score(value: object, *, row: int) -> float:
    if _is_missing(value):
        raise OutcomeFileError(column=SCORE_COLUMN, row=row, reason="missing score")
    if isinstance(value, bool | np.bool_):
        raise OutcomeFileError(column=SCORE_COLUMN, row=row, reason=f"{value!r} is not a number")
    try:
        score = (
            float(value)
            if isinstance(value, int | float | np.integer | np.floating)
            else float(str(value).strip())
        )
    except (TypeError, ValueError):
        raise OutcomeFileError(
            column=SCORE_COLUMN, row=row, reason=f"{value!r} is not a number"
        ) from None
    if not math.isfinite(score):
        raise OutcomeFileError(column=SCORE_COLUMN, row=row, reason=f"{value!r} is not finite")
    return score


def audit_selection_outcomes(
    *,
    outcomes: pd.DataFrame,
    threshold: float | None = None,
    attributes: Sequence[str] | None = None,
    strata_column: str | None = None,
    intersections: Sequence[tuple[str, ...]] = (),
    min_group_size: int = MIN_GROUP_SIZE,
) -> AuditReport:
    """Audit a selection outcome file already parsed into columns.

    Columns (names case-insensitive): ``participant`` (required, unique), then either
    ``score`` with a ``threshold`` (a pass = score >= threshold) or ``passed``
    (0/1/true/false) without one, and one column per attribute: ``attributes`` names
    them, or by default every other column except ``strata_column``. Empty attribute
    cells mean "not reported". Raises `OutcomeFileError` (a ValueError) naming the row
    and column of the first bad value.
    """
    by_name: dict[str, str] = {}
    for column in outcomes.columns:
        key = str(column).strip().lower()
        if key in by_name:
            raise OutcomeFileError(column=key, reason="appears more than once")
        by_name[key] = str(column)

    def column_of(name: str) -> str:
        key = name.strip().lower()
        if key not in by_name:
            raise OutcomeFileError(column=name, reason="missing column")
        return by_name[key]

    if len(outcomes.index) == 0:
        raise ValueError("the selection outcome file has no rows")
    participants = outcomes[column_of(PARTICIPANT_COLUMN)].tolist()
    first_row: dict[str, int] = {}
    for position, participant in enumerate(participants, start=1):
        if _is_missing(participant):
            raise OutcomeFileError(
                column=PARTICIPANT_COLUMN, row=position, reason="missing participant"
            )
        key = str(participant).strip()
        if key in first_row:
            raise OutcomeFileError(
                column=PARTICIPANT_COLUMN,
                row=position,
                reason=f"participant {key!r} already appears in row {first_row[key]}",
            )
        first_row[key] = position

    if threshold is not None:
        if not math.isfinite(threshold):
            raise ValueError("threshold must be a finite number")
        if SCORE_COLUMN not in by_name:
            raise OutcomeFileError(
                column=SCORE_COLUMN, reason="missing column (a threshold needs scores)"
            )
        scores = np.array(
            [
                _parse_score(value, row=position)
                for position, value in enumerate(outcomes[by_name[SCORE_COLUMN]], start=1)
            ]
        )
        decisions = passes_at(scores=scores, threshold=threshold)
    elif PASSED_COLUMN in by_name:
        decisions = np.array(
            [
                _parse_passed(value, row=position)
                for position, value in enumerate(outcomes[by_name[PASSED_COLUMN]], start=1)
            ],
            dtype=bool,
        )
    elif SCORE_COLUMN in by_name:
        raise ValueError("the file has scores but no passed column: give a threshold")
    else:
        raise OutcomeFileError(column=PASSED_COLUMN, reason="missing column (or score)")

    reserved = {PARTICIPANT_COLUMN, SCORE_COLUMN, PASSED_COLUMN}
    strata_key = strata_column.strip().lower() if strata_column is not None else None
    if attributes is None:
        attribute_columns = [
            by_name[key] for key in by_name if key not in reserved and key != strata_key
        ]
    else:
        attribute_columns = [column_of(name) for name in attributes]
    if not attribute_columns:
        raise ValueError("the selection outcome file has no attribute columns to audit")
    groups = {
        str(column): [_label_or_none(value) for value in outcomes[column]]
        for column in attribute_columns
    }
    strata = None
    if strata_column is not None:
        strata = [_label_or_none(value) for value in outcomes[column_of(strata_column)]]
    # Intersections may name attributes in any letter case, like the columns.
    canonical = {name.strip().lower(): name for name in groups}
    resolved = [
        tuple(canonical.get(name.strip().lower(), name) for name in combination)
        for combination in intersections
    ]
    return audit_outcomes(
        passed=decisions,
        groups=groups,
        strata=strata,
        intersections=resolved,
        min_group_size=min_group_size,
        threshold=threshold,
    )
