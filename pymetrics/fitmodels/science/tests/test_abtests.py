"""A/B tests of two model versions: assignment, the tests behind the report, and its verdicts."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from pymetrics.fitmodels.science.abtests import (
    SCORE_BIN_EDGES,
    ArmSample,
    AucEstimate,
    assign_arm,
    compare_arms,
    compare_aucs,
    compare_impact_ratios,
    delong_auc,
    fisher_z_test,
    format_p,
    two_proportion_z_test,
)

EXPERIMENT = "fit-v2-vs-v3"
CANDIDATE_IDS = [f"candidate-{i}" for i in range(10_000)]


def _normal_two_sided_p(z: float) -> float:
    # P(|Z| > |z|) = erfc(|z| / sqrt 2), independent of scipy.
    return math.erfc(abs(z) / math.sqrt(2.0))


def _arm(scores: list[float] | np.ndarray, *, threshold: float = 50.0, **kwargs) -> ArmSample:
    return ArmSample(scores=scores, threshold=threshold, **kwargs)


def _pass_fail(passes: int, n: int) -> list[float]:
    # Scores 80 pass and 20 fail at the threshold 50.
    return [80.0] * passes + [20.0] * (n - passes)


# --- assignment -----------------------------------------------------------------------------


def test_assign_arm_is_pinned_for_known_keys():
    # Pinned once from the documented recipe: a change here reassigns live candidates.
    arms = [assign_arm(experiment=EXPERIMENT, candidate=f"cand-{i}") for i in range(1, 7)]
    assert arms == ["A", "A", "A", "B", "A", "A"]


@pytest.mark.parametrize("share_b", [0.5, 0.3, 0.9], ids=["half", "thirty", "ninety"])
def test_assign_arm_follows_the_documented_sha256_recipe(share_b):
    # given the recipe re-implemented from the docstring
    def expected(candidate: str) -> str:
        digest = hashlib.sha256(f"{EXPERIMENT}\x1f{candidate}".encode()).digest()
        return "B" if int.from_bytes(digest[:8], "big") / 2**64 < share_b else "A"

    # then every one of 500 candidates lands where the recipe puts them
    for candidate in CANDIDATE_IDS[:500]:
        assert assign_arm(experiment=EXPERIMENT, candidate=candidate, share_b=share_b) == (
            expected(candidate)
        )


@pytest.mark.parametrize("share_b", [0.5, 0.3], ids=["half", "thirty"])
def test_assign_arm_splits_candidates_near_share_b(share_b):
    # given 10,000 synthetic candidate ids. A hash is one fixed draw per experiment key, so
    # a 1% test fails for about 1 key in 100 (at share 0.3, "fit-v2-vs-v3" is a 0.4% draw);
    # this key was the first one tried here.
    experiment = "assessment-42/model-v3-vs-v4"
    arms = [assign_arm(experiment=experiment, candidate=c, share_b=share_b) for c in CANDIDATE_IDS]
    observed = [arms.count("A"), arms.count("B")]
    # then the split fits share_b (chi-square goodness of fit)
    expected = [len(arms) * (1 - share_b), len(arms) * share_b]
    assert stats.chisquare(observed, f_exp=expected).pvalue > 0.01
    # and a wrong share would have been caught: 30% B is far from a 50/50 expectation
    if share_b == 0.3:
        assert stats.chisquare(observed, f_exp=[5000, 5000]).pvalue < 1e-10


def test_a_new_experiment_key_reshuffles_about_half_of_the_candidates():
    before = [assign_arm(experiment=EXPERIMENT, candidate=c) for c in CANDIDATE_IDS]
    after = [assign_arm(experiment=EXPERIMENT + "-rerun", candidate=c) for c in CANDIDATE_IDS]
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    # independent 50/50 draws change arm with probability 2 x 0.5 x 0.5 = 0.5
    assert stats.binomtest(changed, len(CANDIDATE_IDS), 0.5).pvalue > 0.01
    assert 4500 < changed < 5500


def test_assign_arm_at_the_extremes_and_refuses_a_share_outside_0_1():
    assert {assign_arm(experiment="x", candidate=c, share_b=0.0) for c in CANDIDATE_IDS[:200]} == {
        "A"
    }
    assert {assign_arm(experiment="x", candidate=c, share_b=1.0) for c in CANDIDATE_IDS[:200]} == {
        "B"
    }
    with pytest.raises(ValueError, match="share_b"):
        assign_arm(experiment="x", candidate="c", share_b=1.5)


# --- the tests behind the report ------------------------------------------------------------


def test_two_proportion_z_test_matches_the_pooled_formula_by_hand():
    # A 35/100, B 42/100: pooled 77/200 = 0.385,
    # se = sqrt(0.385 x 0.615 x (1/100 + 1/100)) = 0.0688150, z = 0.07 / 0.0688150 = 1.017220
    test = two_proportion_z_test(passes_a=35, n_a=100, passes_b=42, n_b=100)
    assert test.z == pytest.approx(1.017220, abs=1e-6)
    assert test.p == pytest.approx(_normal_two_sided_p(1.0172198), abs=1e-6)
    assert test.p == pytest.approx(0.309049, abs=1e-6)


def test_two_proportion_z_test_with_nobody_passing_is_no_difference():
    test = two_proportion_z_test(passes_a=0, n_a=40, passes_b=0, n_b=50)
    assert (test.z, test.p) == (0.0, 1.0)


def test_fisher_z_test_matches_the_hand_computation():
    # atanh(0.3) = 0.3095196, atanh(0.5) = 0.5493061, se = sqrt(1/100 + 1/100) = 0.1414214
    # z = 0.2397865 / 0.1414214 = 1.695547
    test = fisher_z_test(r_a=0.3, n_a=103, r_b=0.5, n_b=103)
    assert test.z == pytest.approx(1.695547, abs=1e-6)
    assert test.p == pytest.approx(_normal_two_sided_p(1.695547), abs=1e-6)
    assert test.p == pytest.approx(0.089972, abs=1e-6)


def test_delong_variance_matches_the_hand_computation():
    # hired scores X = [3, 2], not hired Y = [1, 2, 0]
    # V10 = [3/3, (1 + 0.5 + 1)/3] = [1, 5/6]; V01 = [1, (1 + 0.5)/2, 1] = [1, 0.75, 1]
    # AUC = 5.5 / 6; var = var(V10)/2 + var(V01)/3 = (1/72)/2 + (1/48)/3 = 1/72
    estimate = delong_auc(scores=[3, 2, 1, 2, 0], labels=[1, 1, 0, 0, 0])
    assert estimate.auc == pytest.approx(5.5 / 6, abs=1e-12)
    assert estimate.variance == pytest.approx(1 / 72, abs=1e-12)
    assert estimate.auc == pytest.approx(roc_auc_score([1, 1, 0, 0, 0], [3, 2, 1, 2, 0]))


def test_unpaired_auc_comparison_is_the_difference_over_the_summed_variances():
    # z = (0.80 - 0.70) / sqrt(0.0009 + 0.0016) = 0.1 / 0.05 = 2.0, p = 0.0455003
    test = compare_aucs(
        auc_a=AucEstimate(auc=0.70, variance=0.0016), auc_b=AucEstimate(auc=0.80, variance=0.0009)
    )
    assert test.z == pytest.approx(2.0)
    assert test.p == pytest.approx(0.0455003, abs=1e-6)


def test_impact_ratio_comparison_is_a_log_ratio_z_test():
    # arm A: focal 40/100, reference 50/100: IR 0.8, var = 0.6/40 + 0.5/50 = 0.025
    # arm B: focal 30/100, reference 60/100: IR 0.5, var = 0.7/30 + 0.4/60 = 0.03
    # z = (ln 0.5 - ln 0.8) / sqrt(0.055) = -0.4700036 / 0.2345208 = -2.004103
    test = compare_impact_ratios(
        focal_a=(40, 100), reference_a=(50, 100), focal_b=(30, 100), reference_b=(60, 100)
    )
    assert (test.impact_ratio_a, test.impact_ratio_b) == (pytest.approx(0.8), pytest.approx(0.5))
    assert test.z == pytest.approx(-2.004103, abs=1e-6)
    assert test.p == pytest.approx(_normal_two_sided_p(2.004103), abs=1e-6)


def test_impact_ratio_comparison_corrects_an_arm_where_a_group_never_passes():
    # arm B focal 0/40: that arm's counts become 0.5/41 and 20.5/41 (reference 20/40);
    # var_B = (1 - 0.5/41)/0.5 + (1 - 20.5/41)/20.5 = 1.9756098 + 0.0243902 = 2.0
    # arm A 10/40 vs 20/40: var_A = 0.75/10 + 0.5/20 = 0.1; log IR_A = ln 0.5
    # z = (ln(0.5/20.5) - ln 0.5) / sqrt(2.1) = (-3.7135721 + 0.6931472) / 1.4491377
    test = compare_impact_ratios(
        focal_a=(10, 40), reference_a=(20, 40), focal_b=(0, 40), reference_b=(20, 40)
    )
    assert test.impact_ratio_b == 0.0
    assert test.z == pytest.approx((-3.7135721 + 0.6931472) / 1.4491377, abs=1e-6)


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.0004, "p < 0.001"), (0.003, "p = 0.003"), (0.0496, "p = 0.050"), (0.41, "p = 0.41")],
    ids=["tiny", "small", "near-alpha", "large"],
)
def test_format_p(p, text):
    assert format_p(p) == text


# --- the report --------------------------------------------------------------------------------


def test_pass_rate_verdict_when_arm_b_passes_more():
    # A 350/1000, B 420/1000: pooled 0.385, se = sqrt(0.385 x 0.615 x 0.002) = 0.0217612,
    # z = 0.07 / 0.0217612 = 3.216733, p = 0.0012966
    report = compare_arms(arm_a=_arm(_pass_fail(350, 1000)), arm_b=_arm(_pass_fail(420, 1000)))
    assert report.pass_rates.z == pytest.approx(3.216733, abs=1e-6)
    assert report.pass_rates.p == pytest.approx(_normal_two_sided_p(3.216733), abs=1e-7)
    assert report.pass_rates.verdict == "Arm B passes more candidates (42% vs 35%, p = 0.001)."


def test_pass_rate_verdicts_fewer_and_no_difference():
    fewer = compare_arms(arm_a=_arm(_pass_fail(420, 1000)), arm_b=_arm(_pass_fail(350, 1000)))
    assert fewer.pass_rates.verdict == "Arm B passes fewer candidates (35% vs 42%, p = 0.001)."
    # A 35/100 vs B 42/100: p = 0.309046 (hand computation above)
    same = compare_arms(arm_a=_arm(_pass_fail(35, 100)), arm_b=_arm(_pass_fail(42, 100)))
    assert same.pass_rates.verdict == "No detectable difference in pass rates (p = 0.31)."
    assert same.pass_rates.significant is False


def test_each_arm_passes_at_its_own_threshold():
    scores = [10.0, 30.0, 50.0, 70.0, 90.0]
    report = compare_arms(arm_a=_arm(scores, threshold=50.0), arm_b=_arm(scores, threshold=70.0))
    assert (report.pass_rates.passes_a, report.pass_rates.passes_b) == (3, 2)


def test_score_distribution_tests_equal_scipy_on_the_same_arrays():
    rng = np.random.default_rng(7)
    scores_a = np.clip(rng.normal(50, 15, 300), 0, 100)
    scores_b = np.clip(rng.normal(55, 12, 250), 0, 100)
    report = compare_arms(arm_a=_arm(scores_a), arm_b=_arm(scores_b)).score_distributions
    mann_whitney = stats.mannwhitneyu(scores_b, scores_a, alternative="two-sided")
    kolmogorov = stats.ks_2samp(scores_a, scores_b)
    assert report.mann_whitney_u == mann_whitney.statistic
    assert report.mann_whitney_p == mann_whitney.pvalue
    assert report.probability_b_higher == mann_whitney.statistic / (300 * 250)
    assert report.ks_statistic == kolmogorov.statistic
    assert report.ks_p == kolmogorov.pvalue


def test_score_summary_and_shared_histogram_by_hand():
    # A = [5, 15, 25, 95, 100]: mean 48, quartiles (linear) 15, 25, 95; 100 falls in 90-100
    report = compare_arms(
        arm_a=_arm([5.0, 15.0, 25.0, 95.0, 100.0]), arm_b=_arm([50.0, 50.0, 60.0])
    ).score_distributions
    summary = report.arm_a
    assert (summary.n, summary.mean, summary.q1, summary.median, summary.q3) == (
        5,
        48.0,
        15.0,
        25.0,
        95.0,
    )
    # sd: deviations -43, -33, -23, 47, 52; squares sum 1849+1089+529+2209+2704 = 8380; /4
    assert summary.sd == pytest.approx(math.sqrt(2095.0))
    assert summary.histogram == (1, 1, 1, 0, 0, 0, 0, 0, 0, 2)
    assert report.arm_b.histogram == (0, 0, 0, 0, 0, 2, 1, 0, 0, 0)
    assert report.to_dict()["bin_edges"] == list(SCORE_BIN_EDGES)
    assert SCORE_BIN_EDGES == (0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)


def test_score_distribution_verdicts():
    # given every B score (70-89) above every A score (20-59)
    higher = compare_arms(
        arm_a=_arm([float(s) for s in range(20, 60)]),
        arm_b=_arm([float(s) for s in range(70, 90)] * 2),
    ).score_distributions
    assert higher.verdict == "Arm B scores higher (median 79.5 vs 39.5, Mann-Whitney p < 0.001)."
    # given identical score lists: nothing to detect, both p-values are 1
    same = compare_arms(arm_a=_arm([30.0, 40.0, 50.0]), arm_b=_arm([30.0, 40.0, 50.0]))
    assert same.score_distributions.verdict == (
        "No detectable difference in score distributions "
        "(Mann-Whitney p = 1.00, Kolmogorov-Smirnov p = 1.00)."
    )


def test_score_distribution_verdict_for_a_change_in_shape_only():
    # given two symmetric distributions around 50: A narrow, B bimodal and wide
    rng = np.random.default_rng(3)
    scores_a = np.clip(rng.normal(50, 3, 400), 0, 100)
    scores_b = np.concatenate([rng.normal(30, 3, 200), rng.normal(70, 3, 200)])
    report = compare_arms(arm_a=_arm(scores_a), arm_b=_arm(scores_b)).score_distributions
    mw_p = stats.mannwhitneyu(scores_b, scores_a, alternative="two-sided").pvalue
    assert mw_p > 0.05
    assert report.verdict == (
        "Score distributions differ in shape but not detectably in level "
        f"(Mann-Whitney {format_p(mw_p)}, Kolmogorov-Smirnov p < 0.001)."
    )


def test_impact_ratios_and_four_fifths_per_arm():
    # arm A: women 40/100 pass, men 50/100 -> IR 0.8 (meets the rule);
    # arm B: women 30/100, men 60/100 -> IR 0.5 (fails); "other" has 10 people: not ruled on
    labels_a = ["woman"] * 100 + ["man"] * 100 + ["other"] * 10 + [None] * 5
    scores_a = _pass_fail(40, 100) + _pass_fail(50, 100) + _pass_fail(10, 10) + [80.0] * 5
    labels_b = ["woman"] * 100 + ["man"] * 100 + ["other"] * 10
    scores_b = _pass_fail(30, 100) + _pass_fail(60, 100) + _pass_fail(0, 10)
    report = compare_arms(
        arm_a=_arm(scores_a, groups={"gender": labels_a}),
        arm_b=_arm(scores_b, groups={"gender": labels_b}),
    )
    (gender,) = report.adverse_impact
    arm_a = {group.group: group for group in gender.arm_a.groups}
    assert (arm_a["woman"].impact_ratio, arm_a["other"].impact_ratio) == (0.8, 2.0)
    assert arm_a["other"].ruled_on is False
    assert gender.arm_a.not_reported == 5
    assert (gender.arm_a.four_fifths_pass, gender.arm_b.four_fifths_pass) == (True, False)
    assert (gender.focal_group, gender.reference_group) == ("woman", "man")
    # the ratio test is the hand-computed one above: z = -2.004103, p = 0.04505
    assert gender.z == pytest.approx(-2.004103, abs=1e-6)
    # the focal group's pass rates 40% vs 30%: pooled 0.35, se = sqrt(0.35 x 0.65 x 0.02)
    assert gender.focal_pass_rate_p == pytest.approx(
        _normal_two_sided_p(-0.1 / math.sqrt(0.35 * 0.65 * 0.02)), abs=1e-9
    )
    assert gender.verdict == (
        'Arm A meets the 4/5ths rule for gender (lowest impact ratio 0.80, "woman"). '
        'Arm B fails the 4/5ths rule for gender (lowest impact ratio 0.50, "woman"). '
        'Arm B has more adverse impact on the gender group "woman" than arm A '
        "(impact ratio 0.50 vs 0.80, p = 0.045)."
    )
    assert report.summary == (
        "Arm A (215 candidates) and arm B (210 candidates) compared at alpha = 0.05, each test "
        "two-sided and not adjusted for multiple comparisons. Detectable differences in: "
        "adverse impact (gender). Arm B fails the 4/5ths rule for gender."
    )


def test_adverse_impact_that_cannot_be_compared_says_why():
    labels = ["woman"] * 20 + ["man"] * 40
    scores = _pass_fail(10, 20) + _pass_fail(20, 40)
    report = compare_arms(
        arm_a=_arm(scores, groups={"gender": labels}), arm_b=_arm(scores, groups={"gender": labels})
    )
    (gender,) = report.adverse_impact
    assert (gender.p, gender.significant) == (None, None)
    assert gender.verdict == (
        "Arm A cannot be ruled on for gender (fewer than two groups of 30 or more). "
        "Arm B cannot be ruled on for gender (fewer than two groups of 30 or more). "
        "Adverse impact for gender cannot be compared: fewer than two groups have 30 or more "
        "people in both arms."
    )


def _validity_arm(seed: int, *, strength: float, n: int = 400) -> ArmSample:
    """Scores, and hired/performance that depend on the score with the given strength."""
    rng = np.random.default_rng(seed)
    scores = np.clip(rng.normal(50, 15, n), 0, 100)
    standardised = (scores - 50) / 15
    hired = (rng.random(n) < 1 / (1 + np.exp(-strength * standardised))).astype(float)
    hired[rng.random(n) < 0.25] = np.nan  # outcome not recorded yet
    performance = strength * standardised + rng.normal(0, 1, n)
    return ArmSample(scores=scores, threshold=50.0, hired=hired, performance=performance)


def test_a_planted_difference_in_hiring_validity_is_detected():
    # given arm B's scores strongly related to hiring and arm A's barely
    report = compare_arms(
        arm_a=_validity_arm(11, strength=0.2), arm_b=_validity_arm(12, strength=2.0)
    )
    hiring = report.hiring
    assert hiring is not None
    assert hiring.auc_a is not None
    assert hiring.auc_b is not None
    assert hiring.auc_b > hiring.auc_a + 0.2
    assert hiring.p is not None
    assert hiring.p < 0.001
    assert hiring.verdict == (
        f"Arm B predicts hiring better (AUC {hiring.auc_b:.2f} vs {hiring.auc_a:.2f}, p < 0.001)."
    )


def test_equal_hiring_validity_is_not_significant():
    # given two arms drawn from the same model (different seeds)
    report = compare_arms(
        arm_a=_validity_arm(21, strength=1.0), arm_b=_validity_arm(22, strength=1.0)
    )
    hiring = report.hiring
    assert hiring is not None
    assert hiring.significant is False
    assert hiring.p is not None
    assert hiring.p > 0.05
    assert hiring.verdict.startswith("No detectable difference in how well the arms predict hiring")


def test_hiring_auc_per_arm_equals_sklearn_on_recorded_outcomes():
    arm = _validity_arm(31, strength=1.0)
    report = compare_arms(arm_a=arm, arm_b=_validity_arm(32, strength=1.0))
    hired = np.asarray(arm.hired)
    known = ~np.isnan(hired)
    assert report.hiring is not None
    assert report.hiring.auc_a == pytest.approx(
        roc_auc_score(hired[known], np.asarray(arm.scores)[known]), abs=1e-12
    )
    assert report.hiring.hired_a + report.hiring.not_hired_a == int(known.sum())


def test_performance_validity_uses_fisher_z_on_pearson_r():
    arm_a, arm_b = _validity_arm(41, strength=0.3), _validity_arm(42, strength=1.5)
    report = compare_arms(arm_a=arm_a, arm_b=arm_b)
    performance = report.performance
    assert performance is not None
    r_a = stats.pearsonr(np.asarray(arm_a.scores), np.asarray(arm_a.performance)).statistic
    r_b = stats.pearsonr(np.asarray(arm_b.scores), np.asarray(arm_b.performance)).statistic
    assert (performance.r_a, performance.r_b) == (pytest.approx(r_a), pytest.approx(r_b))
    expected_z = (math.atanh(r_b) - math.atanh(r_a)) / math.sqrt(2 / 397)
    assert performance.z == pytest.approx(expected_z)
    assert performance.verdict == (
        f"Arm B's scores predict performance better (r = {r_b:.2f} vs {r_a:.2f}, p < 0.001)."
    )


def test_too_few_outcomes_says_how_many_are_needed():
    # given 30 candidates per arm with a few outcomes recorded
    scores = [float(s) for s in range(30, 60)]
    hired_a = [1.0] * 4 + [0.0] * 20 + [math.nan] * 6
    hired_b = [1.0] * 12 + [0.0] * 18
    rating_a = [3.0, 4.0] * 4 + [None] * 22
    report = compare_arms(
        arm_a=_arm(scores, hired=hired_a, performance=rating_a),
        arm_b=_arm(scores, hired=hired_b, performance=[float(s) for s in range(30)]),
    )
    assert report.hiring is not None
    assert report.hiring.auc_a is None
    assert report.hiring.verdict == (
        "Not enough hiring outcomes to compare: each arm needs at least 10 hired and 10 not "
        "hired candidates (arm A: 4 hired, 20 not hired; arm B: 12 hired, 18 not hired)."
    )
    assert report.performance is not None
    assert report.performance.r_a is None
    assert report.performance.verdict == (
        "Not enough performance ratings to compare: each arm needs at least 20 rated "
        "candidates whose scores and ratings vary (arm A: 8, arm B: 30)."
    )


def test_outcomes_not_recorded_anywhere_are_left_out():
    report = compare_arms(arm_a=_arm([40.0, 60.0]), arm_b=_arm([45.0, 65.0]))
    assert (report.hiring, report.performance) == (None, None)
    assert report.to_dict()["hiring"] is None


def test_report_to_dict_is_plain_json():
    report = compare_arms(
        arm_a=_validity_arm(51, strength=1.0), arm_b=_validity_arm(52, strength=1.0)
    )
    as_dict = report.to_dict()
    # json.dumps with allow_nan=False fails on NaN/inf; a numpy scalar would fail too
    round_tripped = json.loads(json.dumps(as_dict, allow_nan=False))
    assert round_tripped == as_dict
    assert set(as_dict) == {
        "alpha",
        "pass_rates",
        "adverse_impact",
        "score_distributions",
        "hiring",
        "performance",
        "summary",
    }
    assert as_dict["alpha"] == 0.05


@pytest.mark.parametrize(
    ("arm_a", "arm_b", "message"),
    [
        (_arm([]), _arm([50.0]), "arm A: scores must be a non-empty"),
        (_arm([50.0]), _arm([120.0]), "arm B: fit scores must be finite numbers in 0-100"),
        (
            _arm([50.0], groups={"gender": ["w"]}),
            _arm([50.0]),
            "both arms need the same attributes",
        ),
        (_arm([50.0], hired=[2.0]), _arm([50.0]), "arm A: hired must be 0, 1 or NaN"),
        (_arm([50.0, 60.0], groups={"g": ["w"]}), _arm([50.0], groups={"g": ["m"]}), "1 labels"),
    ],
    ids=["empty", "out-of-range", "attributes", "hired", "label-count"],
)
def test_bad_input_is_refused_with_a_clear_message(arm_a, arm_b, message):
    with pytest.raises(ValueError, match=message):
        compare_arms(arm_a=arm_a, arm_b=arm_b)
