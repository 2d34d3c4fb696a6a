"""Intervals and paired tests (components.core.stats) against values worked out by hand, and on simulated data."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from components.core import stats
from components.core.scoring import char_error_rate, items_transcripts, word_error_rate


def test_agreement_interval_is_wilson_for_top1_and_a_seeded_bootstrap_for_cosine():
    top1 = {"basis": "top-1 match", "value": 7 / 9, "n": 9, "items": [1] * 7 + [0] * 2}
    assert stats.agreement_interval(top1) == pytest.approx([0.453, 0.937], abs=1e-3)
    cosines = [0.999, 0.998, 0.97, 0.995, 0.999, 0.985]
    cosine = {"basis": "output cosine", "value": float(np.mean(cosines)), "n": 6, "items": cosines}
    low, high = stats.agreement_interval(cosine)
    assert min(cosines) <= low < np.mean(cosines) < high <= max(cosines)
    assert stats.agreement_interval(cosine) == [low, high]  # seeded: the same interval every time
    assert stats.agreement_interval({"basis": "top-1 match", "value": 1.0, "n": 9}) is None  # an older row
    assert stats.agreement_interval(None) is None


def test_wilson_for_7_of_9_matches_the_formula():
    z = 1.959963984540054
    p, n = 7 / 9, 9
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = stats.wilson(7, 9)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert low == pytest.approx(0.4526, abs=1e-4) and high == pytest.approx(0.9368, abs=1e-4)
    assert stats.wilson(9, 9)[1] == 1.0 and stats.wilson(0, 9)[0] == 0.0 and stats.wilson(0, 0) is None


def test_mcnemar_exact_p_is_the_two_sided_binomial_on_discordant_pairs():
    # 1 pair where A alone is right, 6 where B alone is right: P(X <= 1 | 7, 1/2) = (1 + 7) / 128
    assert stats.mcnemar_exact(1, 6) == pytest.approx(2 * (math.comb(7, 0) + math.comb(7, 1)) / 2**7)
    assert stats.mcnemar_exact(6, 1) == stats.mcnemar_exact(1, 6) == pytest.approx(0.125)
    # 2 vs 12: 2 * sum_{k<=2} C(14, k) / 2^14
    assert stats.mcnemar_exact(2, 12) == pytest.approx(2 * sum(math.comb(14, k) for k in range(3)) / 2**14)
    assert stats.mcnemar_exact(0, 0) == 1.0 and stats.mcnemar_exact(3, 3) == 1.0


def test_paired_mcnemar_reads_the_discordant_table_and_says_it_in_words():
    # 40 both right, 2 A alone right, 12 B alone right, 6 both wrong
    a = [1] * 40 + [1] * 2 + [0] * 12 + [0] * 6
    b = [1] * 40 + [0] * 2 + [1] * 12 + [0] * 6
    result = stats.paired_metric("top1", a, b)
    assert result.discordant == [2, 12] and result.n == 60
    assert result.p == pytest.approx(stats.mcnemar_exact(2, 12)) and result.better == "b"
    assert stats.verdict(result, "Lite0", "Lite2", "top-1") == (
        "Lite2 is better than Lite0 on top-1 on this set (exact McNemar, p = 0.013, 60 items).")


def test_items_needed_follows_the_observed_discordance():
    # Connor (1987): n = ((z_a sqrt(pd) + z_b sqrt(pd - d^2)) / d)^2; one discordant pair in 9: pd = d = 1/9
    pd, d = 1 / 9, 1 / 9
    expected = math.ceil(((1.959964 * math.sqrt(pd) + 0.841621 * math.sqrt(pd - d * d)) / d) ** 2)
    assert stats.mcnemar_items_needed(1, 0, 9) == expected == 69
    assert stats.mcnemar_items_needed(1, 1, 9) is None
    sentence = stats.verdict(stats.paired_metric("top1", [1, 1, 0], [1, 0, 0]), "A", "B")
    assert sentence.startswith("Cannot tell A and B apart on top1 on 3 items") and "items would be needed" in sentence


@pytest.mark.parametrize("kind", ["mean", "ratio"])
def test_bootstrap_interval_covers_the_truth_at_about_the_stated_rate(kind):
    rng = np.random.default_rng(7)
    truth, covered, simulations, n = 0.3, 0, 200, 200
    for seed in range(simulations):
        if kind == "mean":
            hits = rng.random(n) < truth
            interval = stats.percentile_interval(stats.bootstrap(lambda idx: hits[idx].mean(axis=1), n, seed=seed))
        else:  # a corpus error rate: errors per item ~ Binomial(length, truth)
            lengths = rng.integers(3, 15, n)
            errors = rng.binomial(lengths, truth)
            interval = stats.metric_interval("wer", {"errors": errors, "lengths": lengths}, seed=seed)
        covered += interval[0] <= truth <= interval[1]
    assert 0.90 <= covered / simulations <= 0.99


def test_bootstrap_is_seeded_and_spearman_and_f1_agree_with_their_libraries():
    from scipy.stats import spearmanr
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    whole = np.arange(40)[None, :]
    assert stats.spearman_values(x, y)(whole)[0] == pytest.approx(spearmanr(x, y).statistic)
    truth = list(rng.choice(["pos", "neg", "neu"], 40))
    predicted = list(rng.choice(["pos", "neg", "other"], 40))
    assert stats.f1_values(truth, predicted)(whole)[0] == pytest.approx(
        f1_score(truth, predicted, average="macro", zero_division=0))
    items = {"truth": list(x), "predicted": list(y)}
    assert stats.metric_interval("spearman", items) == stats.metric_interval("spearman", items)
    low, high = stats.metric_interval("spearman", items)
    assert low < spearmanr(x, y).statistic < high


def test_per_item_transcript_errors_sum_to_the_corpus_rates():
    refs = ["the cat sat on the mat", "hello world", "a quick test"]
    hyps = ["the cat sat on mat", "hello there world", "a quick test"]
    items = items_transcripts(refs, hyps)
    for key, rate in (("wer", word_error_rate(refs, hyps)), ("cer", char_error_rate(refs, hyps))):
        assert sum(items[key]["errors"]) / sum(items[key]["lengths"]) == pytest.approx(rate)


def test_paired_bootstrap_finds_a_clear_wer_gap_and_not_a_null_one():
    rng = np.random.default_rng(5)
    lengths = rng.integers(5, 20, 300)
    worse = {"errors": rng.binomial(lengths, 0.3), "lengths": lengths}
    better = {"errors": rng.binomial(lengths, 0.1), "lengths": lengths}
    clear = stats.paired_metric("wer", worse, better)
    assert clear.better == "b" and clear.p < 0.01 and clear.ci[1] < 0 < -clear.ci[0]
    same = stats.paired_metric("wer", worse, worse)
    assert same.better is None and same.p == 1.0 and same.diff == 0


def test_latency_interval_and_test_on_timed_runs():
    fast, slow = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9], [20.0, 19.5, 20.4, 20.1, 19.9, 20.2]
    low, high = stats.latency_interval(fast)
    assert low <= float(np.median(fast)) <= high and stats.latency_interval([5.0]) is None
    result = stats.paired_latency(slow, fast)
    assert result.better == "b" and result.p < 0.01
    assert stats.latency_verdict(result, "slow", "fast").startswith("fast is faster than slow at p50")


def test_overlap_helpers():
    assert stats.all_overlap([[0.4, 0.9], [0.35, 0.88], [0.5, 0.95]])
    assert not stats.all_overlap([[0.1, 0.2], [0.3, 0.4]]) and not stats.all_overlap([[0.1, 0.2], None])
    assert stats.overlaps([0.1, 0.3], [0.2, 0.5]) and not stats.overlaps([0.1, 0.2], [0.3, 0.4])


def test_rows_on_different_sets_are_not_paired():
    a = {"dataset": "bundled", "n_samples": 3, "item_scores": {"top1": [1, 0, 1]}, "latency_samples_ms": [1, 2]}
    b = {**a, "dataset": "mine.zip"}
    out = stats.paired_rows(a, b, "A", "B")
    assert out["metrics"] == {} and "different sets" in out["statements"][0]


def test_mean_interval_over_draws_is_the_student_t_interval():
    # mean 0.6, sample std 0.1, t(0.975, 2) = 4.302653: half-width 0.1 * 4.302653 / sqrt(3)
    low, high = stats.mean_interval([0.5, 0.6, 0.7])
    assert (low, high) == pytest.approx((0.6 - 0.248414, 0.6 + 0.248414), abs=1e-6)
    assert stats.mean_interval([0.5]) is None


def test_the_few_shot_band_is_the_interval_over_draws():
    from components.adapt.charts import fewshot_band, fewshot_chart

    point = {"shots": 2, "accuracy_mean": 0.6, "accuracy_std": 0.1, "accuracy_ci": [0.35, 1.2]}
    assert fewshot_band(point) == (0.35, 1.0)
    assert fewshot_band(dict(point, accuracy_ci=None)) == pytest.approx((0.5, 0.7))  # rows from before intervals
    row = {"backbone_name": "B", "weights": "real", "classes": ["a", "b"], "fewshot": [point]}
    band = fewshot_chart([row]).data[0]
    assert list(band.y) == [1.0, 0.35]


def test_the_bootstrap_memory_stays_bounded_on_a_large_set():
    """1,000 resamples of 50,000 items (50 million draws) in blocks: peak RSS grows by well under 300 MB."""
    import subprocess
    import sys

    code = ("import resource, numpy as np\n"
            "from components.core import stats\n"
            "rng = np.random.default_rng(0); n = 50_000\n"
            "items = {'errors': rng.integers(0, 5, n), 'lengths': rng.integers(5, 20, n)}\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "stats.metric_interval('wer', items)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=str(Path(__file__).resolve().parents[1]))
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 300  # in one block: 200 MB of int32 indices and 800 MB of gathered values


def test_a_row_with_constant_predictions_says_spearman_cannot_be_computed_and_gives_no_nan():
    import json

    truth = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2]
    varied = {"truth": truth, "predicted": [0.2, 0.4, 0.8, 0.3, 0.6, 0.1]}
    constant = {"truth": truth, "predicted": [0.5] * 6}  # every resampled rho of this row is NaN
    result = stats.paired_metric("spearman", varied, constant)
    assert result.p <= 1 and result.better is None and result.b is None and result.diff is None
    json.dumps(result.to_dict(), allow_nan=False)  # no NaN reaches JSON
    sentence = stats.verdict(result, "A", "B", "Spearman")
    assert "cannot be computed (one row's predictions are constant)" in sentence and "p = 2" not in sentence


def test_the_bootstrap_p_floor_needs_differences_and_p_never_passes_1():
    assert stats.bootstrap_p(np.array([])) == 1.0
    assert stats.bootstrap_p(np.array([0.5])) == 1.0  # one difference: the 2/B floor (2) is capped at 1
    assert stats.bootstrap_p(np.full(1000, 0.5)) == pytest.approx(0.002)


def test_write_json_turns_nan_into_null(tmp_path):
    import json

    from components.core.cli import write_json

    write_json(tmp_path / "out.json", {"rho": float("nan"), "rows": [1.0, float("inf"), (2.0, float("-inf"))]})

    def refuse(name):
        raise ValueError(name)

    data = json.loads((tmp_path / "out.json").read_text(), parse_constant=refuse)
    assert data == {"rho": None, "rows": [1.0, None, [2.0, None]]}


def test_macro_f1_of_resamples_matches_scikit_learn_with_many_classes():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(3)
    truth = [f"c{i}" for i in rng.integers(0, 40, 300)]
    predicted = [t if rng.random() < 0.6 else f"c{rng.integers(0, 45)}" for t in truth]
    idx = next(stats.resample_blocks(300, 20, seed=1))
    got = stats.f1_values(truth, predicted)(idx)
    want = [f1_score([truth[i] for i in row], [predicted[i] for i in row], average="macro") for row in idx]
    assert got == pytest.approx(want)


def test_the_median_interval_of_few_timed_runs_is_exact_or_none():
    # [min, max] of n runs covers the median with 1 - 2^(1-n): 75% at n = 3, 96.9% at n = 6
    assert stats.latency_interval([10.0, 11.0, 12.0]) is None and stats.latency_interval([1.0] * 5) is None
    assert stats.latency_interval([6.0, 1.0, 5.0, 2.0, 4.0, 3.0]) == [1.0, 6.0]
    # n = 20: k = 6 covers 1 - 2 P(Bin(20, 1/2) <= 5) = 95.9%; k = 7 only 88.5%
    assert stats.latency_interval([float(v) for v in range(1, 21)]) == [6.0, 15.0]
    assert stats.median_coverage(20, 6) == pytest.approx(0.9586, abs=1e-4)


def test_rows_of_one_set_name_and_size_but_other_items_are_not_paired():
    ids = ("a.jpg", "b.jpg", "c.jpg")
    mine = stats.items_fingerprint(ids, (frozenset({1}), frozenset({2, 7}), frozenset({3})))
    assert mine == stats.items_fingerprint(ids, (frozenset({1}), frozenset({7, 2}), frozenset({3})))
    other = stats.items_fingerprint(("x.jpg", "y.jpg", "z.jpg"), (frozenset({1}), frozenset({2}), frozenset({3})))
    a = {"dataset": "mine.zip", "n_samples": 3, "item_scores": {"top1": [1, 0, 1]}, "items_fingerprint": mine}
    b = {**a, "items_fingerprint": other}  # another upload with the same file name and size
    assert "different sets" in stats.paired_rows(a, b, "A", "B")["statements"][0]
    assert stats.paired_rows(a, dict(a), "A", "B")["metrics"]["top1"]["n"] == 3


def test_rows_without_timings_give_no_latency_numbers():
    """Regression: a row whose model failed has no timings; the paired latency held NaN (written to JSON)."""
    found = stats.paired_latency([], [12.0, 13.0])
    assert (found.n, found.a, found.b, found.diff, found.ci, found.better) == (0, None, None, None, None, None)
