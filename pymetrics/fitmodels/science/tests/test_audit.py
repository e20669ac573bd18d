"""Tests for the bias audit (SCIENCE.md section 4).

Reference values come from hand computation (in comments), from scipy's own tests on
the same tables, from R's ``mantelhaen.test`` documentation output, and from Fagerland,
Lydersen & Laake (2017) "Statistical Analysis of Contingency Tables", chapter 10, as
reproduced by their R package ``contingencytables`` (tests/testthat/test-ch10.R).
"""

import json
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from pymetrics.fitmodels.science.audit import (
    AuditReport,
    OutcomeFileError,
    audit_outcomes,
    audit_selection_outcomes,
    cochran_mantel_haenszel,
    log_bayes_factor_independence,
    passes_at,
    two_proportion_z_test,
)


def people(*groups: tuple[str, int, int]) -> tuple[np.ndarray, list[str]]:
    """Pass decisions and labels for (label, n, passes) groups, passes first."""
    passed: list[bool] = []
    labels: list[str] = []
    for label, n, passes in groups:
        passed += [True] * passes + [False] * (n - passes)
        labels += [label] * n
    return np.array(passed), labels


# A: 20/40 = 0.5, B: 40/50 = 0.8 (highest), C: 18/30 = 0.6.
GENDER_GROUPS = (("A", 40, 20), ("B", 50, 40), ("C", 30, 18))

# R: Rabbits <- array(c(0,0,6,5, 3,0,3,6, 6,2,0,4, 5,6,1,0, 2,5,0,0), dim = c(2,2,5)),
# rows Delay (None, 1.5h), columns Response (Cured, Died), strata penicillin level
# (Agresti 1990, pp. 231-237; the example of R's ?mantelhaen.test).
RABBITS = np.array(
    [
        [[0, 6], [0, 5]],
        [[3, 3], [0, 6]],
        [[6, 0], [2, 4]],
        [[5, 1], [6, 0]],
        [[2, 0], [5, 0]],
    ]
)

# R's UCBAdmissions: rows Admit (Admitted, Rejected), columns Gender (Male, Female),
# strata Dept A-F (Bickel, Hammel & O'Connell 1975).
UCB_ADMISSIONS = np.array(
    [
        [[512, 89], [313, 19]],
        [[353, 17], [207, 8]],
        [[120, 202], [205, 391]],
        [[138, 131], [279, 244]],
        [[53, 94], [138, 299]],
        [[22, 24], [351, 317]],
    ]
)


# -- impact ratios and the 4/5ths rule ------------------------------------------------


def test_impact_ratios_of_a_small_table_are_the_hand_computed_ones():
    # given three groups with pass rates 0.5, 0.8 and 0.6
    passed, labels = people(*GENDER_GROUPS)

    # when audited
    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    # then impact ratio = rate / 0.8: A 0.5/0.8 = 0.625, B 1, C 0.6/0.8 = 0.75
    by_label = {group.label: group for group in audit.groups}
    assert by_label["A"].impact_ratio == pytest.approx(0.625, abs=1e-12)
    assert by_label["B"].impact_ratio == 1.0
    assert by_label["C"].impact_ratio == pytest.approx(0.75, abs=1e-12)
    assert [(g.label, g.n, g.passes, g.pass_rate) for g in audit.groups] == [
        ("B", 50, 40, 0.8),
        ("A", 40, 20, 0.5),
        ("C", 30, 18, 0.6),
    ]
    assert (audit.lowest_group, audit.highest_group) == ("A", "B")
    assert audit.min_impact_ratio == pytest.approx(0.625, abs=1e-12)


def test_four_fifths_rule_fails_when_a_group_is_under_four_fifths():
    passed, labels = people(*GENDER_GROUPS)

    report = audit_outcomes(passed=passed, groups={"gender": labels})

    audit = report.attribute("gender")
    assert audit.four_fifths_pass is False
    assert {g.label: g.four_fifths_pass for g in audit.groups} == {
        "A": False,  # 0.625
        "B": True,
        "C": False,  # 0.75
    }
    assert report.passed is False
    assert report.worst_failing_pair() == ("gender", "A", "B")


def test_four_fifths_rule_holds_at_exactly_four_fifths():
    # given 32/50 = 0.64 against 40/50 = 0.8: impact ratio exactly 0.8 (the floats
    # 0.64 / 0.8 fall just under it; the rule is decided in integers)
    passed, labels = people(("A", 50, 32), ("B", 50, 40))

    report = audit_outcomes(passed=passed, groups={"gender": labels})

    assert report.attribute("gender").four_fifths_pass is True
    assert report.passed is True
    assert report.worst_failing_pair() is None


def test_four_fifths_rule_fails_one_pass_under_four_fifths():
    # 31/50 = 0.62; 0.62 / 0.8 = 0.775 < 0.8
    passed, labels = people(("A", 50, 31), ("B", 50, 40))

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    assert audit.four_fifths_pass is False
    assert audit.min_impact_ratio == pytest.approx(0.775, abs=1e-12)


def test_worst_failing_pair_is_the_attribute_with_the_lowest_impact_ratio():
    # given cells of 40: F|X 10, F|Y 20, M|X 25, M|Y 35 passes.
    # gender: F 30/80, M 60/80 -> 0.5; ethnicity: X 35/80, Y 55/80 -> 35/55 = 0.636
    passed, cells = people(("F|X", 40, 10), ("F|Y", 40, 20), ("M|X", 40, 25), ("M|Y", 40, 35))
    groups = {
        "ethnicity": [cell.split("|")[1] for cell in cells],
        "gender": [cell.split("|")[0] for cell in cells],
    }

    report = audit_outcomes(passed=passed, groups=groups)

    assert report.attribute("gender").min_impact_ratio == pytest.approx(0.5, abs=1e-12)
    assert report.attribute("ethnicity").min_impact_ratio == pytest.approx(35 / 55, abs=1e-12)
    assert report.attribute("ethnicity").four_fifths_pass is False
    assert report.worst_failing_pair() == ("gender", "F", "M")


# -- the significance tests -----------------------------------------------------------


def test_z_test_between_lowest_and_highest_is_the_hand_computed_one():
    # A 20/40 vs B 40/50: pooled p = 60/90 = 2/3; SE = sqrt(2/3 * 1/3 * (1/40 + 1/50))
    # = sqrt(2/9 * 9/200) = sqrt(0.01) = 0.1; z = (0.5 - 0.8) / 0.1 = -3;
    # p = 2 * Phi(-3) = 0.0026997960632601866
    passed, labels = people(*GENDER_GROUPS)

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    assert audit.z == pytest.approx(-3.0, abs=1e-12)
    assert audit.z_test_p == pytest.approx(0.0026997960632601866, rel=1e-9)


def test_two_proportion_z_test_is_undefined_when_everyone_passed():
    assert two_proportion_z_test(passes_a=30, n_a=30, passes_b=40, n_b=40) == (None, None)


def test_fisher_and_chi_square_equal_scipy_on_the_same_tables():
    passed, labels = people(*GENDER_GROUPS)

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    # Fisher: lowest (A) vs highest (B), rows [passes, fails]
    fisher = stats.fisher_exact([[20, 20], [40, 10]], alternative="two-sided")
    assert audit.fisher_p == fisher.pvalue
    assert audit.fisher_odds_ratio == fisher.statistic
    # chi-square over all three ruled-on groups: 2 dof, no Yates correction
    chi2 = stats.chi2_contingency([[20, 20], [18, 12], [40, 10]], correction=False)
    assert audit.chi2 == pytest.approx(chi2.statistic, rel=1e-12)
    assert audit.chi2_p == pytest.approx(chi2.pvalue, rel=1e-12)
    assert (audit.chi2_dof, audit.chi2_yates) == (2, False)


def test_chi_square_of_two_groups_uses_yates_correction():
    passed, labels = people(("A", 40, 20), ("B", 50, 40))

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    corrected = stats.chi2_contingency([[20, 20], [40, 10]], correction=True)
    uncorrected = stats.chi2_contingency([[20, 20], [40, 10]], correction=False)
    assert audit.chi2_p == pytest.approx(corrected.pvalue, rel=1e-12)
    assert audit.chi2_p != pytest.approx(uncorrected.pvalue, rel=1e-3)
    assert (audit.chi2_dof, audit.chi2_yates) == (1, True)


def test_fisher_p_of_a_perfectly_split_table_is_the_hand_computed_one():
    # given groups of 3 (min_group_size lowered to rule on them): 0/3 vs 3/3.
    # Tables with these margins: P(a) = C(3,a) C(3,3-a) / C(6,3); the observed a = 0
    # has probability 1/20, and so has a = 3; two-sided p = 2/20 = 0.1
    passed, labels = people(("A", 3, 0), ("B", 3, 3))

    audit = audit_outcomes(passed=passed, groups={"g": labels}, min_group_size=1).attribute("g")

    assert audit.fisher_p == pytest.approx(0.1, abs=1e-12)


# -- the Bayes factor -----------------------------------------------------------------


def exact_bayes_factor(groups: list[tuple[int, int]]) -> Fraction:
    """BF10 with uniform priors, from the Beta integral int p^x (1-p)^(n-x) dp =
    x! (n-x)! / (n+1)!: each group its own rate (H1) vs one shared rate (H0)."""

    def beta_integral(n: int, x: int) -> Fraction:
        return Fraction(math.factorial(x) * math.factorial(n - x), math.factorial(n + 1))

    separate = Fraction(1)
    for n, x in groups:
        separate *= beta_integral(n, x)
    shared = beta_integral(sum(n for n, _ in groups), sum(x for _, x in groups))
    return separate / shared


def test_bayes_factor_of_a_tiny_table_is_the_hand_computed_one():
    # 2/2 vs 0/2: H1 = (2!0!/3!)(0!2!/3!) = 1/9; H0 = 2!2!/5! = 1/30; BF10 = 30/9 = 10/3
    passed, labels = people(("A", 2, 2), ("B", 2, 0))

    audit = audit_outcomes(passed=passed, groups={"g": labels}, min_group_size=1).attribute("g")

    assert audit.bayes_factor == pytest.approx(10 / 3, rel=1e-12)
    assert audit.bayes_factor_evidence == "difference"


def test_bayes_factor_equals_the_exact_beta_integral_computation():
    passed, labels = people(*GENDER_GROUPS)

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    expected = exact_bayes_factor([(40, 20), (50, 40), (30, 18)])
    assert audit.log_bayes_factor == pytest.approx(math.log(expected), rel=1e-10)
    assert audit.to_dict()["bayes_factor"] == pytest.approx(float(expected), rel=1e-10)


def test_bayes_factor_favours_no_difference_for_equal_large_groups():
    # 100/200 vs 100/200: BF10 = exact value < 1/3 -> evidence of no difference
    expected = exact_bayes_factor([(200, 100), (200, 100)])

    log_bf = log_bayes_factor_independence(table=np.array([[100, 100], [100, 100]]))

    assert log_bf == pytest.approx(math.log(expected), rel=1e-10)
    assert float(expected) < 1 / 3


# -- Cochran-Mantel-Haenszel and Breslow-Day ------------------------------------------


def test_cmh_reproduces_r_mantelhaen_test_on_penicillin_and_rabbits():
    # R ?mantelhaen.test, mantelhaen.test(Rabbits): "Mantel-Haenszel X-squared = 3.9286,
    # df = 1, p-value = 0.04747; 95 percent confidence interval: 1.026713 47.725133;
    # common odds ratio 7"
    result = cochran_mantel_haenszel(tables=RABBITS)

    assert result.chi2 == pytest.approx(3.9286, abs=5e-5)
    assert result.p == pytest.approx(0.04747, abs=5e-6)
    assert result.common_odds_ratio == pytest.approx(7.0, abs=1e-12)
    assert result.odds_ratio_ci_low == pytest.approx(1.026713, abs=5e-7)
    assert result.odds_ratio_ci_high == pytest.approx(47.725133, abs=5e-6)
    assert (result.strata_used, result.strata_skipped) == (5, 0)


def test_cmh_reproduces_r_mantelhaen_test_on_ucb_admissions():
    # R mantelhaen.test(UCBAdmissions): "Mantel-Haenszel X-squared = 1.4269, df = 1,
    # p-value = 0.2323; 95 percent confidence interval: 0.7719074 1.0603298; common odds
    # ratio 0.9046968" (printed in the vcdExtra vignette "Tests of independence")
    result = cochran_mantel_haenszel(tables=UCB_ADMISSIONS)

    assert result.chi2 == pytest.approx(1.4269, abs=5e-5)
    assert result.p == pytest.approx(0.2323, abs=5e-5)
    assert result.common_odds_ratio == pytest.approx(0.9046968, abs=5e-8)
    assert result.odds_ratio_ci_low == pytest.approx(0.7719074, abs=5e-8)
    assert result.odds_ratio_ci_high == pytest.approx(1.0603298, abs=5e-8)


def test_breslow_day_with_tarone_reproduces_fagerland_doll_hill_example():
    # Doll & Hill (1950) smoking and lung cancer, two strata; Fagerland et al. (2017)
    # ch. 10 / contingencytables::BreslowDay_homogeneity_test_stratified_2x2:
    # "The Breslow-Day test: P = 0.02292, T0 = 5.175 (df = 1)" (Tarone-corrected), and
    # "The Mantel-Haenszel estimate = 4.5239"
    doll_hill = np.array([[[647, 622], [2, 27]], [[41, 28], [19, 32]]])

    result = cochran_mantel_haenszel(tables=doll_hill)

    assert result.tarone_chi2 == pytest.approx(5.175, abs=5e-4)
    assert result.tarone_p == pytest.approx(0.02292, abs=5e-6)
    assert result.breslow_day_dof == 1
    assert result.common_odds_ratio == pytest.approx(4.5239, abs=5e-5)


def breslow_day_by_root_finding(tables: np.ndarray, odds_ratio: float) -> float:
    """Uncorrected Breslow-Day, fitted cells found by bisection on the odds ratio."""
    total = 0.0
    for table in tables.astype(float):
        row_1, row_2, col_1 = table[0].sum(), table[1].sum(), table[:, 0].sum()
        low, high = max(0.0, col_1 - row_2), min(row_1, col_1)

        def excess_odds(e, row_1=row_1, row_2=row_2, col_1=col_1):
            return e * (row_2 - col_1 + e) - odds_ratio * (row_1 - e) * (col_1 - e)

        fitted = optimize.brentq(excess_odds, low, high, xtol=1e-13)
        cells = [fitted, row_1 - fitted, col_1 - fitted, row_2 - col_1 + fitted]
        total += (table[0, 0] - fitted) ** 2 * sum(1 / cell for cell in cells)
    return total


def test_breslow_day_equals_an_independent_root_finding_computation():
    result = cochran_mantel_haenszel(tables=UCB_ADMISSIONS)

    expected = breslow_day_by_root_finding(UCB_ADMISSIONS, 0.9046968282586231)
    assert result.breslow_day_chi2 == pytest.approx(expected, rel=1e-9)
    assert result.breslow_day_dof == 5
    assert result.breslow_day_p == pytest.approx(stats.chi2.sf(expected, 5), rel=1e-8)


def test_breslow_day_is_zero_when_strata_share_one_odds_ratio():
    # Both strata have odds ratio (10*10)/(5*5) = 4; the second is the first doubled.
    tables = np.array([[[10, 5], [5, 10]], [[20, 10], [10, 20]]])

    result = cochran_mantel_haenszel(tables=tables)

    assert result.common_odds_ratio == pytest.approx(4.0, abs=1e-12)
    assert result.breslow_day_chi2 == pytest.approx(0.0, abs=1e-12)
    assert result.breslow_day_p == pytest.approx(1.0, abs=1e-9)


def test_strata_of_one_person_are_skipped_without_changing_cmh():
    with_singletons = np.concatenate([RABBITS, np.array([[[1, 0], [0, 0]], [[0, 0], [0, 0]]])])

    result = cochran_mantel_haenszel(tables=with_singletons)

    assert result.chi2 == cochran_mantel_haenszel(tables=RABBITS).chi2
    assert (result.strata_used, result.strata_skipped) == (5, 2)


def test_audit_runs_cmh_on_lowest_vs_highest_group_by_stratum():
    # given the Rabbits tables as people: "immediate" = row 1, "delayed" = row 2, a pass
    # = cured, stratum = penicillin level. Immediate cures 16/26, delayed 13/28, so
    # delayed is the lowest-passing group and the audit's table is the rows swapped.
    passed: list[bool] = []
    group: list[str] = []
    stratum: list[str] = []
    for level, table in zip(["1/8", "1/4", "1/2", "1", "4"], RABBITS, strict=True):
        for row, label in enumerate(["immediate", "delayed"]):
            cured, died = table[row]
            passed += [True] * cured + [False] * died
            group += [label] * (cured + died)
            stratum += [level] * (cured + died)

    report = audit_outcomes(
        passed=np.array(passed), groups={"delay": group}, strata=stratum, min_group_size=1
    )

    audit = report.attribute("delay")
    assert (audit.lowest_group, audit.highest_group) == ("delayed", "immediate")
    assert audit.cmh is not None
    cmh = audit.to_dict()["cmh"]
    # swapping the rows inverts the odds ratio (1/7) and keeps the chi-square
    assert cmh["common_odds_ratio"] == pytest.approx(1 / 7, abs=1e-12)
    assert cmh["chi2"] == pytest.approx(3.9286, abs=5e-5)
    assert cmh["p"] == pytest.approx(0.04747, abs=5e-6)
    assert cmh["odds_ratio_ci_low"] == pytest.approx(1 / 47.725133, rel=1e-6)
    assert cmh["n"] == 54
    assert cmh["n_without_stratum"] == 0


def test_people_without_a_stratum_are_left_out_of_cmh_and_counted():
    passed, labels = people(("A", 40, 20), ("B", 50, 40))
    strata: list[str | None] = ["north" if index % 2 else "south" for index in range(90)]
    strata[0] = None
    strata[1] = ""

    report = audit_outcomes(passed=passed, groups={"gender": labels}, strata=strata)

    cmh = report.attribute("gender").to_dict()["cmh"]
    assert (cmh["n"], cmh["n_without_stratum"]) == (88, 2)


# -- who is ruled on ------------------------------------------------------------------


def test_groups_under_thirty_are_reported_but_not_ruled_on():
    # given D with 29 people and no passes: reported, but neither the lowest group nor
    # part of the rule or the tests
    passed, labels = people(*GENDER_GROUPS, ("D", 29, 0))

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    d = next(group for group in audit.groups if group.label == "D")
    assert (d.n, d.passes, d.pass_rate, d.impact_ratio) == (29, 0, 0.0, 0.0)
    assert (d.ruled_on, d.four_fifths_pass) == (False, None)
    assert audit.lowest_group == "A"
    # the chi-square is still over A, B and C only
    chi2 = stats.chi2_contingency([[20, 20], [18, 12], [40, 10]], correction=False)
    assert audit.chi2_p == pytest.approx(chi2.pvalue, rel=1e-12)
    assert audit.to_dict()["groups_ruled_on"] == 3


def test_a_group_of_exactly_thirty_is_ruled_on():
    passed, labels = people(("A", 30, 10), ("B", 30, 30))

    audit = audit_outcomes(passed=passed, groups={"gender": labels}).attribute("gender")

    assert all(group.ruled_on for group in audit.groups)
    assert audit.four_fifths_pass is False


def test_people_who_did_not_report_are_excluded_and_counted():
    passed, labels = people(("A", 40, 20), ("B", 50, 40))
    unreported_labels: list[str | None] = list(labels)
    # three more people who passed but gave no gender (None, "" and NaN)
    unreported_labels += [None, "", float("nan")]  # type: ignore[list-item]
    all_passed = np.concatenate([passed, [True, True, True]])

    audit = audit_outcomes(passed=all_passed, groups={"gender": unreported_labels}).attribute(
        "gender"
    )

    assert (audit.n, audit.n_not_reported) == (90, 3)
    assert {group.label for group in audit.groups} == {"A", "B"}


def test_a_single_ruled_on_group_cannot_be_ruled_on():
    passed, labels = people(("A", 40, 20), ("B", 10, 1))

    report = audit_outcomes(passed=passed, groups={"gender": labels})

    audit = report.attribute("gender")
    assert audit.four_fifths_pass is None
    assert audit.reason is not None
    assert "Fewer than two groups" in audit.reason
    assert audit.z_test_p is None
    assert audit.fisher_p is None
    assert report.passed is True
    assert report.unruled_attributes == ("gender",)
    # B is still compared with the only ruled-on group: 0.1 / 0.5 = 0.2
    b = next(group for group in audit.groups if group.label == "B")
    assert b.impact_ratio == pytest.approx(0.2, abs=1e-12)


def test_when_no_ruled_on_group_passes_impact_ratios_are_undefined():
    passed, labels = people(("A", 40, 0), ("B", 50, 0))

    report = audit_outcomes(passed=passed, groups={"gender": labels})

    audit = report.attribute("gender")
    assert [group.impact_ratio for group in audit.groups] == [None, None]
    assert audit.four_fifths_pass is None
    assert audit.reason is not None
    assert "0/0" in audit.reason
    assert (audit.z_test_p, audit.chi2_p) == (None, None)
    assert audit.fisher_p == 1.0
    assert report.passed is True
    json.dumps(report.to_dict(), allow_nan=False)


def test_an_empty_audit_is_an_error():
    with pytest.raises(ValueError, match="at least one person"):
        audit_outcomes(passed=np.array([], dtype=bool), groups={"gender": []})


def test_labels_of_the_wrong_length_are_an_error():
    with pytest.raises(ValueError, match="attribute 'gender' has 2 labels for 3 people"):
        audit_outcomes(passed=np.array([True, False, True]), groups={"gender": ["a", "b"]})


def test_passed_must_be_boolean_or_zero_one():
    with pytest.raises(ValueError, match="booleans"):
        audit_outcomes(passed=np.array([0, 2]), groups={"gender": ["a", "b"]})


# -- intersections --------------------------------------------------------------------


def test_intersectional_groups_are_audited_with_the_same_rules():
    # given gender x ethnicity: f x a 40 (10 pass), f x b 40 (30), m x a 40 (30),
    # m x b 20 (15, under 30), plus one person without an ethnicity
    passed_parts, cells = people(("f|a", 40, 10), ("f|b", 40, 30), ("m|a", 40, 30), ("m|b", 20, 15))
    gender = [cell.split("|")[0] for cell in cells] + ["f"]
    ethnicity: list[str | None] = [cell.split("|")[1] for cell in cells] + [None]
    passed = np.concatenate([passed_parts, [True]])

    report = audit_outcomes(
        passed=passed,
        groups={"gender": gender, "ethnicity": ethnicity},
        intersections=[("gender", "ethnicity")],
    )

    audit = report.attribute("gender x ethnicity")
    by_label = {group.label: group for group in audit.groups}
    assert set(by_label) == {"f x a", "f x b", "m x a", "m x b"}
    assert (audit.n, audit.n_not_reported) == (140, 1)
    assert by_label["m x b"].ruled_on is False
    assert by_label["f x a"].impact_ratio == pytest.approx(0.25 / 0.75, abs=1e-12)
    assert audit.four_fifths_pass is False
    assert (audit.lowest_group, audit.highest_group) == ("f x a", "m x a")
    # gender alone: f 40/81, m 45/60 -> 0.4938 / 0.75 = 0.658, fails too
    assert report.attribute("gender").four_fifths_pass is False
    assert report.worst_failing_pair() == ("gender x ethnicity", "f x a", "m x a")


def test_an_intersection_of_an_unknown_attribute_is_an_error():
    with pytest.raises(ValueError, match="unknown attributes"):
        audit_outcomes(
            passed=np.array([True]),
            groups={"gender": ["f"]},
            intersections=[("gender", "ethnicity")],
        )


# -- the report -----------------------------------------------------------------------


def test_to_dict_has_the_contract_keys_and_plain_json_values():
    passed, labels = people(*GENDER_GROUPS)
    strata = ["north" if index % 3 else "south" for index in range(len(labels))]

    report = audit_outcomes(passed=passed, groups={"gender": labels}, strata=strata, threshold=62.5)
    as_dict = report.to_dict()

    assert isinstance(report, AuditReport)
    gender = as_dict["attributes"]["gender"]
    contract = {"groups", "four_fifths_pass", "z_test_p", "fisher_p", "chi2_p", "bayes_factor"}
    assert contract | {"cmh"} <= set(gender)
    assert set(gender["groups"]["A"]) >= {"n", "passes", "pass_rate", "impact_ratio"}
    assert gender["groups"]["A"]["n"] == 40
    assert as_dict["threshold"] == 62.5
    assert as_dict["passed"] is False
    assert as_dict["worst_failing_pair"] == ["gender", "A", "B"]
    # json with allow_nan=False proves there are no NaN/inf and no numpy scalars
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict


def test_cmh_is_absent_from_the_dict_without_strata():
    passed, labels = people(*GENDER_GROUPS)

    gender = audit_outcomes(passed=passed, groups={"gender": labels}).to_dict()["attributes"][
        "gender"
    ]

    assert "cmh" not in gender


def test_passes_at_counts_the_threshold_itself_as_a_pass():
    decisions = passes_at(scores=np.array([59.9, 60.0, 60.1]), threshold=60.0)

    assert decisions.tolist() == [False, True, True]


# -- selection outcome files ----------------------------------------------------------


def outcome_frame() -> pd.DataFrame:
    passed, labels = people(("A", 40, 20), ("B", 50, 40))
    return pd.DataFrame(
        {
            "Participant": [f"p{index}" for index in range(len(labels))],
            "Passed": passed.astype(int),
            "Gender": labels,
        }
    )


def test_a_selection_outcome_file_is_audited_like_arrays():
    frame = outcome_frame()

    report = audit_selection_outcomes(outcomes=frame)

    passed, labels = people(("A", 40, 20), ("B", 50, 40))
    expected = audit_outcomes(passed=passed, groups={"Gender": labels})
    assert report.to_dict() == expected.to_dict()


def test_a_selection_outcome_file_with_scores_uses_the_threshold():
    frame = pd.DataFrame(
        {
            "participant": ["a", "b", "c", "d"],
            "score": ["70", 50.0, 60, 59.99],
            "gender": ["f", "f", "m", "m"],
        }
    )

    report = audit_selection_outcomes(outcomes=frame, threshold=60.0, min_group_size=1)

    groups = {group.label: group.passes for group in report.attribute("gender").groups}
    assert groups == {"f": 1, "m": 1}
    assert report.threshold == 60.0


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("Passed", "maybe", "row 3 (line 4): column passed: 'maybe' is not 0/1/true/false"),
        ("Passed", 2, "row 3 (line 4): column passed: 2 is not 0/1/true/false"),
        ("Passed", None, "row 3 (line 4): column passed: an empty value is not 0/1/true/false"),
        ("Participant", None, "row 3 (line 4): column participant: missing participant"),
        ("Participant", "p0", "row 3 (line 4): column participant: participant 'p0' already"),
    ],
    ids=["word", "two", "empty", "no-participant", "duplicate"],
)
def test_bad_values_in_a_selection_outcome_file_name_row_and_column(column, value, message):
    frame = outcome_frame().astype(object)
    frame.loc[2, column] = value

    with pytest.raises(OutcomeFileError) as error:
        audit_selection_outcomes(outcomes=frame)

    assert str(error.value).startswith(message)
    assert error.value.row == 3


def test_passed_accepts_true_false_words_in_any_case():
    frame = outcome_frame().astype(object)
    frame["Passed"] = ["TRUE" if passed else "false" for passed in frame["Passed"]]

    report = audit_selection_outcomes(outcomes=frame)

    assert report.passes == 60


def test_a_non_numeric_score_names_its_row():
    frame = pd.DataFrame({"participant": ["a", "b"], "score": ["70", "high"], "gender": ["f", "m"]})

    with pytest.raises(OutcomeFileError, match=r"row 2 \(line 3\): column score: 'high'"):
        audit_selection_outcomes(outcomes=frame, threshold=60.0)


def test_scores_without_a_threshold_are_an_error():
    frame = pd.DataFrame({"participant": ["a"], "score": [70], "gender": ["f"]})

    with pytest.raises(ValueError, match="give a threshold"):
        audit_selection_outcomes(outcomes=frame)


def test_a_threshold_without_scores_is_an_error():
    with pytest.raises(OutcomeFileError, match="column score: missing column"):
        audit_selection_outcomes(outcomes=outcome_frame(), threshold=60.0)


def test_a_missing_attribute_column_is_named():
    with pytest.raises(OutcomeFileError, match="column ethnicity: missing column"):
        audit_selection_outcomes(outcomes=outcome_frame(), attributes=["gender", "ethnicity"])


def test_a_file_without_rows_is_an_error():
    with pytest.raises(ValueError, match="no rows"):
        audit_selection_outcomes(outcomes=outcome_frame().iloc[0:0])


def test_a_zero_one_attribute_with_blanks_keeps_integer_labels():
    # pandas reads age_40_plus = 1, 0, blank as 1.0, 0.0, NaN
    frame = pd.DataFrame(
        {
            "participant": ["a", "b", "c"],
            "passed": ["1", "0", "1"],
            "age_40_plus": [1.0, 0.0, float("nan")],
        }
    )

    audit = audit_selection_outcomes(outcomes=frame, min_group_size=1).attribute("age_40_plus")

    assert sorted(group.label for group in audit.groups) == ["0", "1"]
    assert audit.n_not_reported == 1


def test_a_selection_outcome_file_with_strata_and_intersections():
    passed, cells = people(("f|a", 40, 10), ("f|b", 40, 30), ("m|a", 40, 30), ("m|b", 40, 30))
    frame = pd.DataFrame(
        {
            "participant": range(len(cells)),
            "passed": passed,
            "Gender": [cell.split("|")[0] for cell in cells],
            "Ethnicity": [cell.split("|")[1] for cell in cells],
            "Region": ["north" if index % 2 else "south" for index in range(len(cells))],
        }
    )

    report = audit_selection_outcomes(
        outcomes=frame, strata_column="region", intersections=[("gender", "ethnicity")]
    )

    assert [audit.attribute for audit in report.attributes] == [
        "Gender",
        "Ethnicity",
        "Gender x Ethnicity",
    ]
    assert all(audit.cmh is not None for audit in report.attributes)
    assert report.to_dict()["attributes"]["Gender x Ethnicity"]["cmh"]["n"] == 80


def test_a_bayes_factor_too_large_for_a_float_is_none_with_its_log10():
    # 3000/3000 vs 0/3000: ln BF10 is about 4150, far beyond a float
    passed, labels = people(("A", 3000, 3000), ("B", 3000, 0))

    audit = audit_outcomes(passed=passed, groups={"g": labels}).to_dict()["attributes"]["g"]

    expected = exact_bayes_factor([(3000, 3000), (3000, 0)])
    assert audit["bayes_factor"] is None
    # log10 of an exact Fraction: digits of numerator minus digits of denominator
    log10 = math.log10(expected.numerator) - math.log10(expected.denominator)
    assert audit["log10_bayes_factor"] == pytest.approx(log10, rel=1e-9)
