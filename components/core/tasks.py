"""One table of tasks, in the spirit of transformers' ``SUPPORTED_TASKS``.

Everything that needs to know about a task reads its :class:`TaskSpec`: the catalog (which tasks are
valid), the registry (which hub engine serves it), datasets (what input it takes, its bundled set),
evaluation (how outputs become predictions, which metrics, which way is better), the Compare page and
its charts (headline metric, cost-only tasks) and the code snippets (the transformers pipeline name).

Adding a task = one ``TaskSpec`` here + one runner module that registers its runners + catalog tags.
This module imports only :mod:`components.core.scoring` (pure functions), so anything may import it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.core import scoring

Scorer = Callable[[Sequence[Any], Sequence[Any]], dict[str, float | None]]
ItemScorer = Callable[[Sequence[Any], Sequence[Any]], dict[str, Any]]  # per-item scores (components.core.stats)
Predictions = Callable[[Any, int], list[Any]]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class Evaluation:
    """How a labelled set is scored: its file format, bundled file, upload wording and scoring."""

    format: str  # "image-folders" | "transcripts" | "text-label" | "sentence-pairs"
    bundled: str  # file under data/
    upload: str  # what a user's own set looks like, in words
    metrics: tuple[Metric, ...]  # the first is the headline metric
    score: Scorer
    predictions: Predictions
    batched: bool = False  # the runner scores a list of samples in one call
    items: ItemScorer | None = None  # each sample's score, for intervals and paired tests


@dataclass(frozen=True)
class TaskSpec:
    name: str
    input_kind: str  # what the runner takes: "image" | "text" | "audio"
    evaluation: Evaluation | None = None  # a labelled set exists
    cost_only: bool = False  # no labelled set, but Compare measures its cost (latency, memory, FLOPs)
    pipeline: str = ""  # the transformers (5.x) pipeline name, for code snippets
    auto_class: str = ""  # where transformers has no pipeline for the task: the Auto class to load
    hub_engines: dict[str, str] = field(default_factory=dict)  # source kind -> engine for real Hub weights
    bench_options: dict[str, Any] = field(default_factory=dict)  # run options a benchmark passes (zero-shot labels)

    @property
    def headline(self) -> Metric | None:
        return self.evaluation.metrics[0] if self.evaluation else None

    @property
    def comparable(self) -> bool:
        """Compare offers this task (a labelled set, or cost only)."""
        return self.evaluation is not None or self.cost_only


_ACCURACY = (Metric("accuracy", "Accuracy"), Metric("macro_f1", "Macro-F1"))

_SPECS = (
    TaskSpec("image-classification", "image", Evaluation(
        "image-folders", "images/labels.csv", "a ZIP of class-named image folders",
        (Metric("top1", "Top-1 accuracy"), Metric("top5", "Top-5 accuracy")),
        scoring.score_topk, scoring.ranked_indices, batched=True, items=scoring.items_topk),
        pipeline="image-classification",
        hub_engines={"timm": "timm", "torchvision": "torchvision",
                     "transformers": "transformers-image-classifier"}),
    TaskSpec("object-detection", "image", pipeline="object-detection"),
    TaskSpec("ocr", "image"),
    TaskSpec("feature-extraction", "text", pipeline="feature-extraction"),
    TaskSpec("word-embeddings", "text"),
    TaskSpec("sentence-similarity", "text", Evaluation(
        "sentence-pairs", "text/sentence_pairs.csv", "a CSV with columns sentence1,sentence2,score",
        (Metric("spearman", "Spearman ρ"),), scoring.score_spearman, scoring.pair_similarities,
        batched=True, items=scoring.items_spearman),
        pipeline="feature-extraction", hub_engines={"transformers": "transformers-encoder"}),
    TaskSpec("zero-shot-classification", "text",  # by label embeddings, not transformers' NLI pipeline
             cost_only=True, hub_engines={"transformers": "transformers-encoder"},
             bench_options={"labels": ["sports", "politics", "science", "cooking"]}),
    TaskSpec("language-identification", "text", Evaluation(
        "text-label", "text/languages.csv", "a CSV with columns text,label", _ACCURACY,
        scoring.classification_scorer(scoring.language_code), scoring.row_field("lang"), batched=True,
        items=scoring.classification_items(scoring.language_code))),
    TaskSpec("sentiment-analysis", "text", Evaluation(
        "text-label", "text/sentiment.csv", "a CSV with columns text,label", _ACCURACY,
        scoring.classification_scorer(scoring.sentiment_class), scoring.row_field("label"), batched=True,
        items=scoring.classification_items(scoring.sentiment_class)),
        pipeline="sentiment-analysis", hub_engines={"transformers": "transformers-sequence-classifier"}),
    TaskSpec("text-classification", "text", cost_only=True, pipeline="text-classification",
             hub_engines={"transformers": "transformers-sequence-classifier"}),
    TaskSpec("fill-mask", "text", cost_only=True, pipeline="fill-mask"),
    TaskSpec("text-generation", "text", cost_only=True, pipeline="text-generation"),
    TaskSpec("text2text-generation", "text", cost_only=True, auto_class="AutoModelForSeq2SeqLM"),
    TaskSpec("question-answering", "text", auto_class="AutoModelForQuestionAnswering"),
    TaskSpec("code-generation", "text", pipeline="text-generation"),
    TaskSpec("speech-recognition", "audio", Evaluation(
        "transcripts", "speech/transcripts.csv",
        "a ZIP of audio files with a transcripts.csv (file,transcript)",
        (Metric("wer", "Word error rate", False), Metric("cer", "Character error rate", False)),
        scoring.score_transcripts, scoring.transcript, items=scoring.items_transcripts),
        pipeline="automatic-speech-recognition", hub_engines={"transformers": "transformers-asr"}),
    TaskSpec("voice-activity-detection", "audio"),
    TaskSpec("speech-translation", "audio", pipeline="automatic-speech-recognition"),
    TaskSpec("zero-shot-image-classification", "image", cost_only=True, pipeline="zero-shot-image-classification",
             hub_engines={"transformers": "transformers-zero-shot-image"},
             bench_options={"labels": ["cat", "dog", "cup of coffee", "car", "rocket", "person", "clock"]}),
    TaskSpec("image-captioning", "image", cost_only=True, pipeline="image-text-to-text",
             hub_engines={"transformers": "transformers-captioner"}),
    TaskSpec("visual-question-answering", "image", pipeline="image-text-to-text"),
    TaskSpec("image-text-retrieval", "image"),
)

TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in _SPECS}


def get_task(name: str) -> TaskSpec:
    """The spec of ``name``; KeyError lists the known tasks."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task '{name}' (tasks: {', '.join(TASKS)})") from None


def evaluation_tasks() -> list[str]:
    """Tasks with a labelled evaluation set."""
    return [name for name, spec in TASKS.items() if spec.evaluation is not None]


def tasks_taking(input_kind: str) -> tuple[str, ...]:
    return tuple(name for name, spec in TASKS.items() if spec.input_kind == input_kind)
