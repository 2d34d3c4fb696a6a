"""Text runners: sentence similarity / search, zero-shot by label similarity, language id, sentiment."""
from __future__ import annotations

from typing import Any

from components.core import (
    LANGUAGE_IDENTIFICATION,
    SENTENCE_SIMILARITY,
    SENTIMENT_ANALYSIS,
    TEXT_CLASSIFICATION,
    ZERO_SHOT_CLASSIFICATION,
)
from components.models.extras import TokenizerExtras
from components.models.loaders import text
from components.models.loaders.text import embed, predict_languages, tokenize
from components.models.registry import TORCH_RUNTIMES, register_engine
from components.models.runners.base import InputError, Runner, label_list

ZERO_SHOT_TEMPLATE = "This text is about {}."
EMBED_BUDGET = 8 * 256**2  # lines x tokens² per encoder call (attention's size): 8 lines of 256 tokens, ~75 MB


def _lines(inputs: Any) -> list[str]:
    lines = [inputs] if isinstance(inputs, str) else list(inputs)
    lines = [line.strip() for line in lines if line and line.strip()]
    if not lines:
        raise InputError("There is no text to analyse: type or upload at least one non-empty line.")
    return lines


def _embed_in_chunks(loaded: Any, batch: dict[str, Any]) -> Any:
    """Sentence embeddings, as many lines per call as EMBED_BUDGET allows at the padded length: one call for
    short lines; one 400-word line padding 199 one-word lines to 256 tokens cost +862 MB in a single call."""
    import torch

    rows, width = next(iter(batch.values())).shape[:2]
    step = max(1, EMBED_BUDGET // width**2)
    return torch.cat([embed(loaded, {k: v[start:start + step] for k, v in batch.items()})
                      for start in range(0, rows, step)])


class SentenceSimilarityRunner(Runner):
    """Embeds the lines; output: the cosine-similarity matrix, and a ranking when a query is given."""

    task = SENTENCE_SIMILARITY

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        query = (options.get("query") or "").strip()
        return tokenize(self.loaded, _lines(inputs) + ([query] if query else []))

    def forward(self, batch: Any) -> Any:
        return _embed_in_chunks(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        lines = _lines(inputs)
        query = (options.get("query") or "").strip()
        matrix = (outputs @ outputs.T).cpu()
        result: dict[str, Any] = {"sentences": lines, "matrix": matrix[: len(lines), : len(lines)].tolist()}
        if query:
            scores = matrix[-1, : len(lines)].tolist()
            order = sorted(range(len(lines)), key=lambda i: -scores[i])
            result["query"] = query
            result["ranking"] = [{"text": lines[i], "score": scores[i]} for i in order]
        return result


class EmbeddingZeroShotRunner(Runner):
    """Zero-shot classification: each line goes to the label whose description embeds closest."""

    task = ZERO_SHOT_CLASSIFICATION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        labels = label_list(options, "Zero-shot classification")
        prompts = [ZERO_SHOT_TEMPLATE.format(label) for label in labels]
        return tokenize(self.loaded, _lines(inputs) + prompts)

    def forward(self, batch: Any) -> Any:
        return _embed_in_chunks(self.loaded, batch)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        lines = _lines(inputs)
        labels = label_list(options, "Zero-shot classification")
        sims = (outputs[: len(lines)] @ outputs[len(lines):].T).cpu()
        probs = (sims / 0.05).softmax(-1)  # temperature turns cosine gaps into readable shares
        results = []
        for line, row_sim, row_p in zip(lines, sims.tolist(), probs.tolist()):
            ranked = sorted(zip(labels, row_p, row_sim), key=lambda t: -t[1])
            results.append({"text": line, "labels": [{"label": l, "score": p, "cosine": c}
                                                     for l, p, c in ranked]})
        return results


class LanguageIdRunner(Runner):
    task = LANGUAGE_IDENTIFICATION

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _lines(inputs)

    def forward(self, batch: Any) -> Any:
        return predict_languages(self.loaded, batch, k=3)

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return [{"text": text, "lang": top[0][0], "score": top[0][1],
                 "top": [{"lang": lang, "score": score} for lang, score in top]}
                for text, top in zip(_lines(inputs), outputs)]


class VaderSentimentRunner(Runner):
    task = SENTIMENT_ANALYSIS

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return _lines(inputs)

    def forward(self, batch: Any) -> Any:
        return [self.model.polarity_scores(line) for line in batch]

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        results = []
        for line, scores in zip(_lines(inputs), outputs):
            compound = scores["compound"]
            label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
            results.append({"text": line, "label": label, "score": abs(compound),
                            "scores": {"positive": scores["pos"], "neutral": scores["neu"],
                                       "negative": scores["neg"], "compound": compound}})
        return results


class TextClassificationRunner(Runner):
    """transformers sequence classifiers (sentiment, FinBERT, …): softmax over the model's labels."""

    task = SENTIMENT_ANALYSIS

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return tokenize(self.loaded, _lines(inputs), max_length=512)

    def forward(self, batch: Any) -> Any:
        return self.model(**batch).logits

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        id2label = self.extras(TokenizerExtras).labels
        results = []
        for line, row in zip(_lines(inputs), outputs.float().softmax(-1).cpu().tolist()):
            best = max(range(len(row)), key=row.__getitem__)
            results.append({"text": line, "label": id2label[best].lower(), "score": row[best],
                            "scores": {id2label[i].lower(): p for i, p in enumerate(row)}})
        return results


_EMBEDDING_TASKS = {SENTENCE_SIMILARITY: SentenceSimilarityRunner, ZERO_SHOT_CLASSIFICATION: EmbeddingZeroShotRunner}
register_engine("minilm", text.load_minilm, _EMBEDDING_TASKS, runtimes=TORCH_RUNTIMES)
register_engine("transformers-encoder", text.load_transformers_encoder, _EMBEDDING_TASKS, runtimes=TORCH_RUNTIMES)
register_engine("fasttext_lid", text.load_fasttext_lid, {LANGUAGE_IDENTIFICATION: LanguageIdRunner},
                own_runtime="fastText")
register_engine("vader", text.load_vader, {SENTIMENT_ANALYSIS: VaderSentimentRunner}, own_runtime="pure Python")
register_engine("transformers-sequence-classifier", text.load_transformers_text_classifier,
                {SENTIMENT_ANALYSIS: TextClassificationRunner, TEXT_CLASSIFICATION: TextClassificationRunner},
                runtimes=TORCH_RUNTIMES)
