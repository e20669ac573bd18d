"""A/B tests of two job-fit model versions on one assessment (SCIENCE.md section 4, last bullet).

Two model versions can be active for the same assessment at once. Each candidate is
put in arm A or arm B by :func:`assign_arm` (a hash of experiment and candidate, so a
candidate who comes back always meets the same model), and :func:`compare_arms` turns
the two arms' scores, pass decisions, group labels and recorded outcomes into an
:class:`ABReport`:

- pass rates, with a two-sided two-proportion z-test (pooled proportion);
- adverse impact per attribute: each arm's impact ratios and 4/5ths verdict, and a
  test of whether arm B's impact ratio for the most disadvantaged group differs from
  arm A's (see :func:`compare_impact_ratios`);
- score distributions on shared 0-100 bins, with the Mann-Whitney U test (level) and
  the two-sample Kolmogorov-Smirnov test (shape);
- predictive validity where outcomes are recorded: the AUC of score for ``hired``
  (DeLong variance, independent arms) and the Pearson correlation of score with
  ``performance`` (Fisher's z for independent correlations);
- one plain-language verdict per comparison and an overall summary.

Every test is two-sided at ``alpha`` (0.05 unless given) and none is adjusted for
multiple comparisons: the report is a set of separate questions a recruiter asks, and
says so. The arms hold different candidates, so every comparison is between
independent samples. Pure numpy/scipy: the Django side stores and serves the report.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

Arm = Literal["A", "B"]

DEFAULT_ALPHA = 0.05
#: Groups smaller than this are reported but not ruled on (SCIENCE.md section 4).
MIN_GROUP_SIZE = 30
FOUR_FIFTHS = 0.8
#: Shared histogram bins for fit scores (0-100): 0-10, 10-20, ..., 90-100 (last closed).
SCORE_BIN_EDGES: tuple[float, ...] = tuple(float(edge) for edge in range(0, 101, 10))
#: An AUC needs this many hired and this many not-hired candidates in each arm: with
#: fewer, its standard error is so wide (about 0.1 at 10 per class) that a comparison
#: says nothing, and the DeLong variance itself becomes unstable.
MIN_OUTCOMES_PER_CLASS = 10
#: A performance correlation needs this many rated candidates in each arm: Fisher's z
#: has standard error 1 / sqrt(n - 3), 0.24 at n = 20.
MIN_RATED_CANDIDATES = 20

# The bytes between experiment and candidate in the assignment hash: a unit separator
# cannot occur in a key typed by a person, so ("ab", "c") and ("a", "bc") never collide.
_KEY_SEPARATOR = "\x1f"


def assign_arm(*, experiment: str, candidate: str, share_b: float = 0.5) -> Arm:
    """The arm ("A" or "B") that ``candidate`` sees in ``experiment``, the same every time.

    Recipe (fixed: stored assignments depend on it):
    ``digest = sha256((experiment + "\\x1f" + candidate).encode("utf-8"))``; the first
    8 bytes of the digest read as a big-endian unsigned integer, divided by 2**64, give
    u in [0, 1); the arm is "B" when u < share_b, else "A". sha256 is the same in every
    process and Python version (unlike the salted built-in ``hash()``), and a new
    experiment key reshuffles everyone independently of earlier experiments.
    """
    if not 0.0 <= share_b <= 1.0 or math.isnan(share_b):
        raise ValueError(f"share_b must be in [0, 1], got {share_b!r}")
    key = f"{experiment}{_KEY_SEPARATOR}{candidate}".encode()
    digest = hashlib.sha256(key).digest()
    unit = int.from_bytes(digest[:8], "big") / 2.0**64
    return "B" if unit < share_b else "A"


@dataclass(frozen=True)
class ArmSample:
    """One arm's candidates, position i being the same candidate in every sequence.

    ``groups`` maps an attribute (e.g. "gender") to each candidate's label; None, ""
    or NaN = not reported (left out of that attribute only). ``hired`` is 0/1 and
    ``performance`` any number, NaN (or None) where no outcome is recorded yet.
    """

    scores: Sequence[float] | npt.NDArray[np.float64]
    threshold: float
    groups: Mapping[str, Sequence[str | None]] = field(default_factory=dict)
    hired: Sequence[float | None] | npt.NDArray[np.float64] | None = None
    performance: Sequence[float | None] | npt.NDArray[np.float64] | None = None


@dataclass(frozen=True)
class ProportionTest:
    """Two-sided two-proportion z-test with the pooled proportion; z > 0 when B is higher."""

    z: float
    p: float


@dataclass(frozen=True)
class PassRateComparison:
    n_a: int
    passes_a: int
    pass_rate_a: float
    n_b: int
    passes_b: int
    pass_rate_b: float
    z: float
    p: float
    significant: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_a": self.n_a,
            "passes_a": self.passes_a,
            "pass_rate_a": self.pass_rate_a,
            "n_b": self.n_b,
            "passes_b": self.passes_b,
            "pass_rate_b": self.pass_rate_b,
            "z": self.z,
            "p": self.p,
            "significant": self.significant,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class GroupPassRate:
    """One group in one arm; the impact ratio is relative to the highest ruled-on group."""

    group: str
    n: int
    passes: int
    pass_rate: float
    impact_ratio: float | None
    ruled_on: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "n": self.n,
            "passes": self.passes,
            "pass_rate": self.pass_rate,
            "impact_ratio": _json_number(self.impact_ratio),
            "ruled_on": self.ruled_on,
        }


@dataclass(frozen=True)
class ArmImpact:
    """One attribute in one arm: its groups and the 4/5ths rule over the ruled-on ones."""

    groups: tuple[GroupPassRate, ...]
    not_reported: int
    lowest_group: str | None
    lowest_impact_ratio: float | None
    #: None when the rule cannot be applied (``reason`` says why).
    four_fifths_pass: bool | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [group.to_dict() for group in self.groups],
            "not_reported": self.not_reported,
            "lowest_group": self.lowest_group,
            "lowest_impact_ratio": _json_number(self.lowest_impact_ratio),
            "four_fifths_pass": self.four_fifths_pass,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ImpactRatioTest:
    """Whether one group pair's impact ratio differs between arms (see compare_impact_ratios)."""

    impact_ratio_a: float
    impact_ratio_b: float
    z: float
    p: float


@dataclass(frozen=True)
class ImpactComparison:
    """Adverse impact for one attribute in both arms, and whether it differs."""

    attribute: str
    arm_a: ArmImpact
    arm_b: ArmImpact
    #: The compared pair: the group with the lowest impact ratio in either arm, and the
    #: highest-passing group of that arm (groups of 30 or more in both arms only).
    focal_group: str | None
    reference_group: str | None
    impact_ratio_a: float | None
    impact_ratio_b: float | None
    z: float | None
    p: float | None
    #: The focal group's own pass rates, A vs B (two-proportion z-test): context for the
    #: ratio test, since a model can pass more of everyone without changing the ratio.
    focal_pass_rate_a: float | None
    focal_pass_rate_b: float | None
    focal_pass_rate_p: float | None
    significant: bool | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "arm_a": self.arm_a.to_dict(),
            "arm_b": self.arm_b.to_dict(),
            "focal_group": self.focal_group,
            "reference_group": self.reference_group,
            "impact_ratio_a": _json_number(self.impact_ratio_a),
            "impact_ratio_b": _json_number(self.impact_ratio_b),
            "z": _json_number(self.z),
            "p": _json_number(self.p),
            "focal_pass_rate_a": _json_number(self.focal_pass_rate_a),
            "focal_pass_rate_b": _json_number(self.focal_pass_rate_b),
            "focal_pass_rate_p": _json_number(self.focal_pass_rate_p),
            "significant": self.significant,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ScoreSummary:
    """One arm's fit scores: quartiles by numpy's default (linear) method, SD with ddof=1."""

    n: int
    mean: float
    sd: float | None
    q1: float
    median: float
    q3: float
    #: Counts on SCORE_BIN_EDGES, the same bins for both arms.
    histogram: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": _json_number(self.sd),
            "q1": self.q1,
            "median": self.median,
            "q3": self.q3,
            "histogram": list(self.histogram),
        }


@dataclass(frozen=True)
class ScoreDistributionComparison:
    arm_a: ScoreSummary
    arm_b: ScoreSummary
    #: Mann-Whitney U of arm B's scores against arm A's (scipy, two-sided, continuity
    #: corrected when asymptotic) and U / (n_a n_b): the chance that a random arm-B
    #: score is above a random arm-A score, ties counting half.
    mann_whitney_u: float
    mann_whitney_p: float
    probability_b_higher: float
    ks_statistic: float
    ks_p: float
    significant: bool
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "bin_edges": list(SCORE_BIN_EDGES),
            "arm_a": self.arm_a.to_dict(),
            "arm_b": self.arm_b.to_dict(),
            "mann_whitney_u": self.mann_whitney_u,
            "mann_whitney_p": self.mann_whitney_p,
            "probability_b_higher": self.probability_b_higher,
            "ks_statistic": self.ks_statistic,
            "ks_p": self.ks_p,
            "significant": self.significant,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class AucEstimate:
    """AUC of score for hired vs not hired, with its DeLong (1988) variance."""

    auc: float
    variance: float

    @property
    def standard_error(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class HiringValidity:
    """AUC of fit score for ``hired`` in each arm and the independent-samples comparison."""

    hired_a: int
    not_hired_a: int
    hired_b: int
    not_hired_b: int
    min_per_class: int
    auc_a: float | None
    se_a: float | None
    auc_b: float | None
    se_b: float | None
    z: float | None
    p: float | None
    significant: bool | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "hired_a": self.hired_a,
            "not_hired_a": self.not_hired_a,
            "hired_b": self.hired_b,
            "not_hired_b": self.not_hired_b,
            "min_per_class": self.min_per_class,
            "auc_a": _json_number(self.auc_a),
            "se_a": _json_number(self.se_a),
            "auc_b": _json_number(self.auc_b),
            "se_b": _json_number(self.se_b),
            "z": _json_number(self.z),
            "p": _json_number(self.p),
            "significant": self.significant,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class PerformanceValidity:
    """Pearson r of fit score with ``performance`` in each arm, compared by Fisher's z."""

    n_a: int
    n_b: int
    min_rated: int
    r_a: float | None
    r_b: float | None
    z: float | None
    p: float | None
    significant: bool | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_a": self.n_a,
            "n_b": self.n_b,
            "min_rated": self.min_rated,
            "r_a": _json_number(self.r_a),
            "r_b": _json_number(self.r_b),
            "z": _json_number(self.z),
            "p": _json_number(self.p),
            "significant": self.significant,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ABReport:
    """Everything :func:`compare_arms` found; ``hiring``, ``performance``: None if unrecorded."""

    alpha: float
    pass_rates: PassRateComparison
    adverse_impact: tuple[ImpactComparison, ...]
    score_distributions: ScoreDistributionComparison
    hiring: HiringValidity | None
    performance: PerformanceValidity | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "pass_rates": self.pass_rates.to_dict(),
            "adverse_impact": [comparison.to_dict() for comparison in self.adverse_impact],
            "score_distributions": self.score_distributions.to_dict(),
            "hiring": None if self.hiring is None else self.hiring.to_dict(),
            "performance": None if self.performance is None else self.performance.to_dict(),
            "summary": self.summary,
        }


# --- the tests, usable on their own ------------------------------------------------------


def two_proportion_z_test(*, passes_a: int, n_a: int, passes_b: int, n_b: int) -> ProportionTest:
    """Two-sided z-test of p_b - p_a with the pooled proportion (SCIENCE.md section 4).

    When the pooled proportion is 0 or 1 both rates are equal and the statistic is 0/0;
    it is reported as z = 0, p = 1 (no evidence of a difference) rather than undefined.
    """
    if n_a < 1 or n_b < 1:
        raise ValueError("both samples need at least one candidate")
    rate_a, rate_b = passes_a / n_a, passes_b / n_b
    pooled = (passes_a + passes_b) / (n_a + n_b)
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if standard_error == 0.0:
        return ProportionTest(z=0.0, p=1.0)
    z = (rate_b - rate_a) / standard_error
    return ProportionTest(z=z, p=_two_sided_p(z))


def compare_impact_ratios(
    *,
    focal_a: tuple[int, int],
    reference_a: tuple[int, int],
    focal_b: tuple[int, int],
    reference_b: tuple[int, int],
) -> ImpactRatioTest:
    """Does the impact ratio of one group pair differ between the arms? Each pair is (passes, n).

    What is tested: H0 log(IR_B) = log(IR_A), with IR = focal pass rate / reference pass
    rate within an arm. log IR has the delta-method variance of a log risk ratio,
    (1 - p_f) / (n_f p_f) + (1 - p_r) / (n_r p_r) (Katz et al. 1978); the arms are
    independent, so z = (log IR_B - log IR_A) / sqrt(var_A + var_B), two-sided. This
    tests adverse impact itself: a model that passes more of every group raises the
    focal group's pass rate without changing its ratio. When a group in an arm has no
    passes the log is undefined; that arm's four counts then get the usual +0.5
    correction (passes + 0.5, n + 1) for the test only. Reported ratios are uncorrected.
    """
    log_a, variance_a = _log_impact_ratio(focal_a, reference_a)
    log_b, variance_b = _log_impact_ratio(focal_b, reference_b)
    z = (log_b - log_a) / math.sqrt(variance_a + variance_b)
    return ImpactRatioTest(
        impact_ratio_a=(focal_a[0] / focal_a[1]) / (reference_a[0] / reference_a[1]),
        impact_ratio_b=(focal_b[0] / focal_b[1]) / (reference_b[0] / reference_b[1]),
        z=z,
        p=_two_sided_p(z),
    )


def delong_auc(*, scores: npt.ArrayLike, labels: npt.ArrayLike) -> AucEstimate:
    """AUC (ties count half) and its DeLong, DeLong & Clarke-Pearson (1988) variance.

    With V10_i the share of negatives below positive i and V01_j the share of positives
    above negative j (ties half), var = var(V10) / n1 + var(V01) / n0 (ddof=1). Computed
    from midranks, so memory stays linear in the number of candidates.
    """
    score_values = np.asarray(scores, dtype=float)
    label_values = np.asarray(labels, dtype=float)
    positives = score_values[label_values == 1]
    negatives = score_values[label_values == 0]
    n1, n0 = positives.size, negatives.size
    if n1 < 2 or n0 < 2:
        raise ValueError("the DeLong variance needs at least two candidates in each class")
    combined_ranks = stats.rankdata(np.concatenate([positives, negatives]))
    below_positive = (combined_ranks[:n1] - stats.rankdata(positives)) / n0
    above_negative = 1.0 - (combined_ranks[n1:] - stats.rankdata(negatives)) / n1
    auc = float(below_positive.mean())
    variance = float(below_positive.var(ddof=1) / n1 + above_negative.var(ddof=1) / n0)
    return AucEstimate(auc=auc, variance=variance)


def compare_aucs(*, auc_a: AucEstimate, auc_b: AucEstimate) -> ProportionTest:
    """z-test of AUC_B - AUC_A for independent samples: z = diff / sqrt(var_A + var_B).

    The unpaired DeLong test (as R's pROC ``roc.test(paired = FALSE, method = "delong")``).
    Two perfect (or equal zero-variance) AUCs give z = 0, p = 1.
    """
    spread = math.sqrt(auc_a.variance + auc_b.variance)
    difference = auc_b.auc - auc_a.auc
    if spread == 0.0:
        if difference == 0.0:
            return ProportionTest(z=0.0, p=1.0)
        z = math.copysign(math.inf, difference)
        return ProportionTest(z=z, p=0.0)
    z = difference / spread
    return ProportionTest(z=z, p=_two_sided_p(z))


def fisher_z_test(*, r_a: float, n_a: int, r_b: float, n_b: int) -> ProportionTest:
    """Two-sided test of r_b - r_a for independent correlations (Fisher 1921).

    z = (atanh(r_b) - atanh(r_a)) / sqrt(1 / (n_a - 3) + 1 / (n_b - 3)).
    """
    if n_a <= 3 or n_b <= 3:
        raise ValueError("Fisher's z needs more than three pairs in each sample")
    # |r| = 1 would be an infinite z; clip a hair inside so the test stays finite.
    limit = 1.0 - 1e-12
    z_a = math.atanh(min(max(r_a, -limit), limit))
    z_b = math.atanh(min(max(r_b, -limit), limit))
    z = (z_b - z_a) / math.sqrt(1.0 / (n_a - 3) + 1.0 / (n_b - 3))
    return ProportionTest(z=z, p=_two_sided_p(z))


def format_p(p: float) -> str:
    """A p-value as written in a verdict: "p < 0.001", "p = 0.003", "p = 0.41".

    Three decimals below 0.1 so that a value just under alpha never prints as 0.05.
    """
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


# --- the comparison ------------------------------------------------------------------------


def compare_arms(*, arm_a: ArmSample, arm_b: ArmSample, alpha: float = DEFAULT_ALPHA) -> ABReport:
    """Compare arm A (usually the current model) with arm B on the same assessment.

    A pass is score >= that arm's threshold. Both arms must carry the same attributes.
    Verdicts quote figures as "B vs A" and call a difference detectable when p < alpha.
    Raises ValueError for empty arms, scores outside 0-100, sequences of different
    lengths or hired values other than 0, 1 and NaN.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    scores_a = _scores(arm_a, "A")
    scores_b = _scores(arm_b, "B")
    if set(arm_a.groups) != set(arm_b.groups):
        raise ValueError(
            "both arms need the same attributes, got "
            f"{sorted(arm_a.groups)} and {sorted(arm_b.groups)}"
        )
    passed_a = scores_a >= arm_a.threshold
    passed_b = scores_b >= arm_b.threshold

    pass_rates = _compare_pass_rates(passed_a, passed_b, alpha)
    adverse_impact = tuple(
        _compare_impact(
            attribute,
            _labels(arm_a.groups[attribute], scores_a.size, attribute, "A"),
            passed_a,
            _labels(arm_b.groups[attribute], scores_b.size, attribute, "B"),
            passed_b,
            alpha,
        )
        for attribute in arm_a.groups
    )
    distributions = _compare_distributions(scores_a, scores_b, alpha)

    hiring = None
    if arm_a.hired is not None or arm_b.hired is not None:
        hired_a = _hired(arm_a.hired, scores_a.size, "A")
        hired_b = _hired(arm_b.hired, scores_b.size, "B")
        hiring = _compare_hiring(scores_a, hired_a, scores_b, hired_b, alpha)
    performance = None
    if arm_a.performance is not None or arm_b.performance is not None:
        rating_a = _outcome(arm_a.performance, scores_a.size, "performance", "A")
        rating_b = _outcome(arm_b.performance, scores_b.size, "performance", "B")
        performance = _compare_performance(scores_a, rating_a, scores_b, rating_b, alpha)

    summary = _summary(
        alpha=alpha,
        pass_rates=pass_rates,
        adverse_impact=adverse_impact,
        distributions=distributions,
        hiring=hiring,
        performance=performance,
    )
    return ABReport(
        alpha=alpha,
        pass_rates=pass_rates,
        adverse_impact=adverse_impact,
        score_distributions=distributions,
        hiring=hiring,
        performance=performance,
        summary=summary,
    )


def _compare_pass_rates(
    passed_a: npt.NDArray[np.bool_], passed_b: npt.NDArray[np.bool_], alpha: float
) -> PassRateComparison:
    passes_a, passes_b = int(passed_a.sum()), int(passed_b.sum())
    n_a, n_b = passed_a.size, passed_b.size
    test = two_proportion_z_test(passes_a=passes_a, n_a=n_a, passes_b=passes_b, n_b=n_b)
    rate_a, rate_b = passes_a / n_a, passes_b / n_b
    significant = test.p < alpha
    if significant:
        direction = "more" if rate_b > rate_a else "fewer"
        shown_a, shown_b = _percentages(rate_a, rate_b)
        verdict = (
            f"Arm B passes {direction} candidates ({shown_b} vs {shown_a}, {format_p(test.p)})."
        )
    else:
        verdict = f"No detectable difference in pass rates ({format_p(test.p)})."
    return PassRateComparison(
        n_a=n_a,
        passes_a=passes_a,
        pass_rate_a=rate_a,
        n_b=n_b,
        passes_b=passes_b,
        pass_rate_b=rate_b,
        z=test.z,
        p=test.p,
        significant=significant,
        verdict=verdict,
    )


def _arm_impact(labels: list[str | None], passed: npt.NDArray[np.bool_]) -> ArmImpact:
    counts: dict[str, list[int]] = {}
    for label, did_pass in zip(labels, passed, strict=True):
        if label is None:
            continue
        tally = counts.setdefault(label, [0, 0])
        tally[0] += 1
        tally[1] += int(did_pass)
    not_reported = sum(label is None for label in labels)
    ruled_rates = [p / n for n, p in counts.values() if n >= MIN_GROUP_SIZE]
    top = max(ruled_rates, default=None)
    groups = tuple(
        GroupPassRate(
            group=name,
            n=n,
            passes=passes,
            pass_rate=passes / n,
            impact_ratio=None if not top else (passes / n) / top,
            ruled_on=n >= MIN_GROUP_SIZE,
        )
        for name, (n, passes) in sorted(counts.items())
    )
    ruled = [group for group in groups if group.ruled_on]
    if len(ruled) < 2:
        return ArmImpact(
            groups=groups,
            not_reported=not_reported,
            lowest_group=None,
            lowest_impact_ratio=None,
            four_fifths_pass=None,
            reason=f"fewer than two groups of {MIN_GROUP_SIZE} or more",
        )
    if not top:
        return ArmImpact(
            groups=groups,
            not_reported=not_reported,
            lowest_group=None,
            lowest_impact_ratio=None,
            four_fifths_pass=None,
            reason=f"nobody in a group of {MIN_GROUP_SIZE} or more passed",
        )
    lowest = min(ruled, key=lambda group: (group.impact_ratio or 0.0, group.group))
    lowest_ratio = lowest.impact_ratio or 0.0
    return ArmImpact(
        groups=groups,
        not_reported=not_reported,
        lowest_group=lowest.group,
        lowest_impact_ratio=lowest_ratio,
        four_fifths_pass=lowest_ratio >= FOUR_FIFTHS,
        reason=None,
    )


def _compare_impact(
    attribute: str,
    labels_a: list[str | None],
    passed_a: npt.NDArray[np.bool_],
    labels_b: list[str | None],
    passed_b: npt.NDArray[np.bool_],
    alpha: float,
) -> ImpactComparison:
    impact_a = _arm_impact(labels_a, passed_a)
    impact_b = _arm_impact(labels_b, passed_b)
    rule_sentences = [
        _four_fifths_sentence("A", attribute, impact_a),
        _four_fifths_sentence("B", attribute, impact_b),
    ]
    untested = ImpactComparison(
        attribute=attribute,
        arm_a=impact_a,
        arm_b=impact_b,
        focal_group=None,
        reference_group=None,
        impact_ratio_a=None,
        impact_ratio_b=None,
        z=None,
        p=None,
        focal_pass_rate_a=None,
        focal_pass_rate_b=None,
        focal_pass_rate_p=None,
        significant=None,
        verdict="",
    )

    # Compare like with like: only groups ruled on in both arms, the same pair in both.
    by_name_a = {group.group: group for group in impact_a.groups if group.ruled_on}
    by_name_b = {group.group: group for group in impact_b.groups if group.ruled_on}
    common = sorted(set(by_name_a) & set(by_name_b))
    if len(common) < 2:
        reason = (
            f"Adverse impact for {attribute} cannot be compared: fewer than two groups have "
            f"{MIN_GROUP_SIZE} or more people in both arms."
        )
        return replace(untested, verdict=" ".join([*rule_sentences, reason]))
    pair = _focal_pair(common, by_name_a, by_name_b)
    if pair is None:
        reason = (
            f"Adverse impact for {attribute} cannot be compared: nobody passed in the "
            f"groups of {MIN_GROUP_SIZE} or more of one arm."
        )
        return replace(untested, verdict=" ".join([*rule_sentences, reason]))
    focal, reference = pair
    a_f, a_r, b_f, b_r = (
        by_name_a[focal],
        by_name_a[reference],
        by_name_b[focal],
        by_name_b[reference],
    )
    ratio_test = compare_impact_ratios(
        focal_a=(a_f.passes, a_f.n),
        reference_a=(a_r.passes, a_r.n),
        focal_b=(b_f.passes, b_f.n),
        reference_b=(b_r.passes, b_r.n),
    )
    focal_test = two_proportion_z_test(
        passes_a=a_f.passes, n_a=a_f.n, passes_b=b_f.passes, n_b=b_f.n
    )
    significant = ratio_test.p < alpha
    ratios = (
        f"impact ratio {ratio_test.impact_ratio_b:.2f} vs {ratio_test.impact_ratio_a:.2f}, "
        f"{format_p(ratio_test.p)}"
    )
    if significant:
        more_or_less = "more" if ratio_test.impact_ratio_b < ratio_test.impact_ratio_a else "less"
        sentence = (
            f'Arm B has {more_or_less} adverse impact on the {attribute} group "{focal}" '
            f"than arm A ({ratios})."
        )
    else:
        sentence = (
            f'No detectable difference in adverse impact on the {attribute} group "{focal}" '
            f"({ratios})."
        )
    return ImpactComparison(
        attribute=attribute,
        arm_a=impact_a,
        arm_b=impact_b,
        focal_group=focal,
        reference_group=reference,
        impact_ratio_a=ratio_test.impact_ratio_a,
        impact_ratio_b=ratio_test.impact_ratio_b,
        z=ratio_test.z,
        p=ratio_test.p,
        focal_pass_rate_a=a_f.pass_rate,
        focal_pass_rate_b=b_f.pass_rate,
        focal_pass_rate_p=focal_test.p,
        significant=significant,
        verdict=" ".join([*rule_sentences, sentence]),
    )


def _focal_pair(
    common: list[str],
    by_name_a: Mapping[str, GroupPassRate],
    by_name_b: Mapping[str, GroupPassRate],
) -> tuple[str, str] | None:
    """The most disadvantaged group in either arm and that arm's highest-passing group."""
    candidates: list[tuple[float, str, str]] = []
    for by_name in (by_name_a, by_name_b):
        top_rate = max(by_name[name].pass_rate for name in common)
        if top_rate == 0.0:
            return None
        # Ties: the first name in sorted order, so the pair is deterministic.
        reference = min(name for name in common if by_name[name].pass_rate == top_rate)
        for name in common:
            if name != reference:
                candidates.append((by_name[name].pass_rate / top_rate, name, reference))
    _, focal, reference = min(candidates)
    return focal, reference


def _four_fifths_sentence(arm: str, attribute: str, impact: ArmImpact) -> str:
    if impact.four_fifths_pass is None:
        return f"Arm {arm} cannot be ruled on for {attribute} ({impact.reason})."
    verb = "meets" if impact.four_fifths_pass else "fails"
    return (
        f"Arm {arm} {verb} the 4/5ths rule for {attribute} (lowest impact ratio "
        f'{impact.lowest_impact_ratio:.2f}, "{impact.lowest_group}").'
    )


def _score_summary(scores: npt.NDArray[np.float64]) -> ScoreSummary:
    counts, _ = np.histogram(scores, bins=np.asarray(SCORE_BIN_EDGES))
    q1, median, q3 = (float(value) for value in np.quantile(scores, [0.25, 0.5, 0.75]))
    return ScoreSummary(
        n=int(scores.size),
        mean=float(scores.mean()),
        sd=float(scores.std(ddof=1)) if scores.size > 1 else None,
        q1=q1,
        median=median,
        q3=q3,
        histogram=tuple(int(count) for count in counts),
    )


def _compare_distributions(
    scores_a: npt.NDArray[np.float64], scores_b: npt.NDArray[np.float64], alpha: float
) -> ScoreDistributionComparison:
    summary_a, summary_b = _score_summary(scores_a), _score_summary(scores_b)
    mann_whitney = stats.mannwhitneyu(scores_b, scores_a, alternative="two-sided")
    kolmogorov = stats.ks_2samp(scores_a, scores_b)
    u_b = float(mann_whitney.statistic)
    mw_p, ks_p = float(mann_whitney.pvalue), float(kolmogorov.pvalue)
    probability_b_higher = u_b / (scores_a.size * scores_b.size)
    both_p = f"Mann-Whitney {format_p(mw_p)}, Kolmogorov-Smirnov {format_p(ks_p)}"
    if mw_p < alpha:
        direction = "higher" if probability_b_higher > 0.5 else "lower"
        verdict = (
            f"Arm B scores {direction} (median {summary_b.median:.1f} vs "
            f"{summary_a.median:.1f}, Mann-Whitney {format_p(mw_p)})."
        )
    elif ks_p < alpha:
        verdict = f"Score distributions differ in shape but not detectably in level ({both_p})."
    else:
        verdict = f"No detectable difference in score distributions ({both_p})."
    return ScoreDistributionComparison(
        arm_a=summary_a,
        arm_b=summary_b,
        mann_whitney_u=u_b,
        mann_whitney_p=mw_p,
        probability_b_higher=probability_b_higher,
        ks_statistic=float(kolmogorov.statistic),
        ks_p=ks_p,
        significant=mw_p < alpha or ks_p < alpha,
        verdict=verdict,
    )


def _compare_hiring(
    scores_a: npt.NDArray[np.float64],
    hired_a: npt.NDArray[np.float64],
    scores_b: npt.NDArray[np.float64],
    hired_b: npt.NDArray[np.float64],
    alpha: float,
) -> HiringValidity:
    counts = {
        "hired_a": int((hired_a == 1).sum()),
        "not_hired_a": int((hired_a == 0).sum()),
        "hired_b": int((hired_b == 1).sum()),
        "not_hired_b": int((hired_b == 0).sum()),
    }
    if min(counts.values()) < MIN_OUTCOMES_PER_CLASS:
        verdict = (
            "Not enough hiring outcomes to compare: each arm needs at least "
            f"{MIN_OUTCOMES_PER_CLASS} hired and {MIN_OUTCOMES_PER_CLASS} not hired "
            f"candidates (arm A: {counts['hired_a']} hired, {counts['not_hired_a']} not hired; "
            f"arm B: {counts['hired_b']} hired, {counts['not_hired_b']} not hired)."
        )
        return HiringValidity(
            **counts,
            min_per_class=MIN_OUTCOMES_PER_CLASS,
            auc_a=None,
            se_a=None,
            auc_b=None,
            se_b=None,
            z=None,
            p=None,
            significant=None,
            verdict=verdict,
        )
    known_a, known_b = ~np.isnan(hired_a), ~np.isnan(hired_b)
    auc_a = delong_auc(scores=scores_a[known_a], labels=hired_a[known_a])
    auc_b = delong_auc(scores=scores_b[known_b], labels=hired_b[known_b])
    test = compare_aucs(auc_a=auc_a, auc_b=auc_b)
    significant = test.p < alpha
    aucs = f"AUC {auc_b.auc:.2f} vs {auc_a.auc:.2f}, {format_p(test.p)}"
    if significant:
        better = "better" if auc_b.auc > auc_a.auc else "worse"
        verdict = f"Arm B predicts hiring {better} ({aucs})."
    else:
        verdict = f"No detectable difference in how well the arms predict hiring ({aucs})."
    return HiringValidity(
        **counts,
        min_per_class=MIN_OUTCOMES_PER_CLASS,
        auc_a=auc_a.auc,
        se_a=auc_a.standard_error,
        auc_b=auc_b.auc,
        se_b=auc_b.standard_error,
        z=test.z,
        p=test.p,
        significant=significant,
        verdict=verdict,
    )


def _compare_performance(
    scores_a: npt.NDArray[np.float64],
    rating_a: npt.NDArray[np.float64],
    scores_b: npt.NDArray[np.float64],
    rating_b: npt.NDArray[np.float64],
    alpha: float,
) -> PerformanceValidity:
    known_a, known_b = ~np.isnan(rating_a), ~np.isnan(rating_b)
    n_a, n_b = int(known_a.sum()), int(known_b.sum())
    r_a = _pearson(scores_a[known_a], rating_a[known_a])
    r_b = _pearson(scores_b[known_b], rating_b[known_b])
    if min(n_a, n_b) < MIN_RATED_CANDIDATES or r_a is None or r_b is None:
        verdict = (
            "Not enough performance ratings to compare: each arm needs at least "
            f"{MIN_RATED_CANDIDATES} rated candidates whose scores and ratings vary "
            f"(arm A: {n_a}, arm B: {n_b})."
        )
        return PerformanceValidity(
            n_a=n_a,
            n_b=n_b,
            min_rated=MIN_RATED_CANDIDATES,
            r_a=None,
            r_b=None,
            z=None,
            p=None,
            significant=None,
            verdict=verdict,
        )
    test = fisher_z_test(r_a=r_a, n_a=n_a, r_b=r_b, n_b=n_b)
    significant = test.p < alpha
    correlations = f"r = {r_b:.2f} vs {r_a:.2f}, {format_p(test.p)}"
    if significant:
        better = "better" if r_b > r_a else "worse"
        verdict = f"Arm B's scores predict performance {better} ({correlations})."
    else:
        verdict = (
            f"No detectable difference in how well the arms predict performance ({correlations})."
        )
    return PerformanceValidity(
        n_a=n_a,
        n_b=n_b,
        min_rated=MIN_RATED_CANDIDATES,
        r_a=r_a,
        r_b=r_b,
        z=test.z,
        p=test.p,
        significant=significant,
        verdict=verdict,
    )


def _summary(
    *,
    alpha: float,
    pass_rates: PassRateComparison,
    adverse_impact: tuple[ImpactComparison, ...],
    distributions: ScoreDistributionComparison,
    hiring: HiringValidity | None,
    performance: PerformanceValidity | None,
) -> str:
    """Headline first (what differs), then 4/5ths failures: the two things a reviewer acts on."""
    differences: list[str] = []
    if pass_rates.significant:
        differences.append("pass rates")
    differences.extend(
        f"adverse impact ({comparison.attribute})"
        for comparison in adverse_impact
        if comparison.significant
    )
    if distributions.significant:
        differences.append("score distributions")
    if hiring is not None and hiring.significant:
        differences.append("prediction of hiring")
    if performance is not None and performance.significant:
        differences.append("prediction of performance")
    sentences = [
        f"Arm A ({pass_rates.n_a} candidates) and arm B ({pass_rates.n_b} candidates) "
        f"compared at alpha = {alpha:g}, each test two-sided and not adjusted for "
        "multiple comparisons."
    ]
    if differences:
        sentences.append(f"Detectable differences in: {', '.join(differences)}.")
    else:
        sentences.append("No detectable difference in any comparison.")
    for comparison in adverse_impact:
        for arm, impact in (("A", comparison.arm_a), ("B", comparison.arm_b)):
            if impact.four_fifths_pass is False:
                sentences.append(f"Arm {arm} fails the 4/5ths rule for {comparison.attribute}.")
    return " ".join(sentences)


# --- input checks and small helpers -------------------------------------------------------


def _scores(arm: ArmSample, name: str) -> npt.NDArray[np.float64]:
    scores = np.asarray(arm.scores, dtype=float)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError(f"arm {name}: scores must be a non-empty one-dimensional sequence")
    if not np.all(np.isfinite(scores)) or scores.min() < 0.0 or scores.max() > 100.0:
        raise ValueError(f"arm {name}: fit scores must be finite numbers in 0-100")
    if not math.isfinite(arm.threshold):
        raise ValueError(f"arm {name}: threshold must be a finite number")
    return scores


def _labels(raw: Sequence[str | None], size: int, attribute: str, arm: str) -> list[str | None]:
    if len(raw) != size:
        raise ValueError(f"arm {arm}: {attribute} has {len(raw)} labels for {size} scores")
    labels: list[str | None] = []
    for value in raw:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            labels.append(None)
        else:
            text = str(value)
            labels.append(text if text.strip() else None)
    return labels


def _outcome(
    raw: Sequence[float | None] | npt.NDArray[np.float64] | None, size: int, name: str, arm: str
) -> npt.NDArray[np.float64]:
    if raw is None:
        return np.full(size, np.nan)
    values = np.asarray(raw, dtype=float)
    if values.shape != (size,):
        raise ValueError(f"arm {arm}: {name} has {values.size} values for {size} scores")
    if np.isinf(values).any():
        raise ValueError(f"arm {arm}: {name} must be finite or NaN (not recorded)")
    return values


def _hired(
    raw: Sequence[float | None] | npt.NDArray[np.float64] | None, size: int, arm: str
) -> npt.NDArray[np.float64]:
    hired = _outcome(raw, size, "hired", arm)
    recorded = hired[~np.isnan(hired)]
    if not np.isin(recorded, (0.0, 1.0)).all():
        raise ValueError(f"arm {arm}: hired must be 0, 1 or NaN (not recorded)")
    return hired


def _pearson(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> float | None:
    """Pearson r, the validity coefficient of personnel selection; None without variance."""
    if x.size < 2 or np.ptp(x) == 0.0 or np.ptp(y) == 0.0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _log_impact_ratio(focal: tuple[int, int], reference: tuple[int, int]) -> tuple[float, float]:
    (focal_passes, focal_n), (reference_passes, reference_n) = focal, reference
    if focal_passes == 0 or reference_passes == 0:
        focal_passes_f, focal_n_f = focal_passes + 0.5, focal_n + 1.0
        reference_passes_f, reference_n_f = reference_passes + 0.5, reference_n + 1.0
    else:
        focal_passes_f, focal_n_f = float(focal_passes), float(focal_n)
        reference_passes_f, reference_n_f = float(reference_passes), float(reference_n)
    focal_rate = focal_passes_f / focal_n_f
    reference_rate = reference_passes_f / reference_n_f
    variance = (1.0 - focal_rate) / focal_passes_f + (1.0 - reference_rate) / reference_passes_f
    return math.log(focal_rate / reference_rate), variance


def _percentages(rate_a: float, rate_b: float) -> tuple[str, str]:
    """Whole percentages, or one decimal when whole ones would print two different rates alike."""
    decimals = 0 if round(rate_a * 100) != round(rate_b * 100) else 1
    return f"{rate_a * 100:.{decimals}f}%", f"{rate_b * 100:.{decimals}f}%"


def _two_sided_p(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))


def _json_number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
