"""Text explanations: which tokens or words carried a text model's answer.

- transformers classifiers: integrated gradients on the word-embedding layer (``captum.attr.
  LayerIntegratedGradients``), baseline = every non-special token replaced by [PAD]; the scores add up
  to the explained logit minus the baseline's logit (completeness: checked, steps doubled until it holds).
- sentence similarity (MiniLM and other embedding models): leave-one-word-out on the cosine: a word's
  score is how much the pair's similarity drops when that word is removed. Model-agnostic (it runs on
  ONNX runtimes too) and in whole words, which is what a reader asks about.
- VADER: its own per-word valences after its rules (negation, boosters, "but"), explainable by design.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.models import InputError, Runner, TokenizerExtras

IG_STEPS = 32
IG_MAX_STEPS = 256
COMPLETENESS_TOLERANCE = 0.05  # of |output - baseline output|


@dataclass(frozen=True)
class TokenScores:
    """Tokens with their scores; ``details`` carries the method's own checks."""

    tokens: list[dict[str, Any]]
    details: dict[str, Any]


def integrated_gradients(runner: Runner, text: str, target: int, steps: int = IG_STEPS,
                         max_steps: int = IG_MAX_STEPS) -> TokenScores:
    """Token attributions for class ``target`` of a transformers sequence classifier on one ``text``.

    Completeness is checked: while the attributions' sum misses (output - baseline output) by more than
    ``COMPLETENESS_TOLERANCE`` of it, the step count doubles, up to ``max_steps``; ``details`` says how it ended.
    """
    import torch
    from captum.attr import LayerIntegratedGradients

    tokenizer = runner.extras(TokenizerExtras).tokenizer
    batch = runner.preprocess([text])
    ids = batch["input_ids"]
    others = [name for name in batch if name != "input_ids"]
    special = torch.tensor(tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True),
                           dtype=torch.bool, device=ids.device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    baseline = torch.where(special, ids, torch.full_like(ids, pad))

    def logits(input_ids: Any, *rest: Any) -> Any:
        return runner.infer({"input_ids": input_ids, **dict(zip(others, rest))}, gradients=True)

    integrated = LayerIntegratedGradients(logits, runner.model.get_input_embeddings())
    with runner.loaded.hooked():  # Captum hooks the shared embedding layer: no run of this model meanwhile
        output = float(runner.infer(batch)[0, target])
        baseline_output = float(runner.infer({**batch, "input_ids": baseline})[0, target])
        while True:
            attributions, delta = integrated.attribute(
                ids, baselines=baseline, target=target, additional_forward_args=tuple(batch[n] for n in others),
                n_steps=steps, return_convergence_delta=True)
            gap = abs(float(delta[0])) / max(abs(output - baseline_output), 1e-12)
            if gap <= COMPLETENESS_TOLERANCE or steps >= max_steps:
                break
            steps *= 2
    scores = attributions.sum(-1)[0].detach().float().cpu().tolist()
    pieces = tokenizer.convert_ids_to_tokens(ids[0].tolist())
    tokens = [{"token": piece, "score": score} for piece, score, skip in zip(pieces, scores, special.tolist())
              if not skip]
    return TokenScores(tokens, {"output": output, "baseline_output": baseline_output, "steps": steps,
                                "attribution_sum": sum(scores), "completeness_gap": gap})


def similarity_words(runner: Runner, first: str, second: str) -> TokenScores:
    """Leave-one-word-out on the cosine similarity of two sentences (one batched model call)."""
    words = (first.split(), second.split())
    if not words[0] or not words[1]:
        raise InputError("Word attributions for similarity need two non-empty sentences.")
    texts, rows = [first, second], []  # rows: per word, where its sentence-without-it sits in texts
    for ws in words:
        for i in range(len(ws)):
            variant = " ".join(ws[:i] + ws[i + 1:])
            rows.append(len(texts) if variant else None)  # an empty sentence counts as unrelated (cosine 0)
            texts += [variant] if variant else []
    matrix = runner.run(texts).output["matrix"]
    full = matrix[0][1]
    placed = [(sentence, word) for sentence, ws in enumerate(words, start=1) for word in ws]
    tokens = []
    for (sentence, word), row in zip(placed, rows):
        without = 0.0 if row is None else matrix[row][1] if sentence == 1 else matrix[0][row]
        tokens.append({"token": word, "score": full - without, "sentence": sentence})
    return TokenScores(tokens, {"similarity": full})


def vader_words(runner: Runner, text: str) -> TokenScores:
    """VADER's valence of each word after its rules (negation, boosters, "but"), beside its raw lexicon
    value; VADER's compound score is a normalised sum of these."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

    analyzer = runner.model
    sentitext = SentiText(text)
    words = sentitext.words_and_emoticons
    valences: list[float] = []
    for i, word in enumerate(words):  # VADER's own loop (polarity_scores), kept per word
        if word.lower() in BOOSTER_DICT or (word.lower() == "kind" and words[i + 1:i + 2] and
                                            words[i + 1].lower() == "of"):
            valences.append(0.0)
            continue
        valences = analyzer.sentiment_valence(0, sentitext, word, i, valences)
    valences = analyzer._but_check(words, valences)
    tokens = [{"token": word, "score": float(valence), "lexicon": float(analyzer.lexicon.get(word.lower(), 0.0))}
              for word, valence in zip(words, valences)]
    return TokenScores(tokens, {"compound": analyzer.polarity_scores(text)["compound"]})
