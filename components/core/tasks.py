"""One table of tasks, in the spirit of transformers' ``SUPPORTED_TASKS``.

Everything that needs to know about a task reads its :class:`TaskSpec`: the catalog (which tasks are
valid), the registry (which hub engine serves it), datasets (what input it takes, its bundled set),
evaluation (how outputs become predictions, which metrics, which way is better), the Compare page and
its charts (headline metric, cost-only tasks) and the code snippets (the transformers pipeline name).

Every "which tasks get feature X" answer is a field here (classifier, attention view, stress answers, playground,
Adapt). Adding a task = its name constant and ``TaskSpec`` here (and the constant in the core face) + a runner
that registers it + catalog tags. Elsewhere a task is named by its constant, never by the string.
This module imports only :mod:`components.core.scoring` (pure functions), so anything may import it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.core import scoring

# Task names: use these constants, never the string, outside this module (tests/test_registry.py checks).
IMAGE_CLASSIFICATION = "image-classification"
OBJECT_DETECTION = "object-detection"
OCR = "ocr"
FEATURE_EXTRACTION = "feature-extraction"
WORD_EMBEDDINGS = "word-embeddings"
SENTENCE_SIMILARITY = "sentence-similarity"
ZERO_SHOT_CLASSIFICATION = "zero-shot-classification"
LANGUAGE_IDENTIFICATION = "language-identification"
SENTIMENT_ANALYSIS = "sentiment-analysis"
TEXT_CLASSIFICATION = "text-classification"
FILL_MASK = "fill-mask"
TEXT_GENERATION = "text-generation"
TEXT2TEXT_GENERATION = "text2text-generation"
QUESTION_ANSWERING = "question-answering"
CODE_GENERATION = "code-generation"
SPEECH_RECOGNITION = "speech-recognition"
VOICE_ACTIVITY_DETECTION = "voice-activity-detection"
SPEECH_TRANSLATION = "speech-translation"
ZERO_SHOT_IMAGE_CLASSIFICATION = "zero-shot-image-classification"
IMAGE_CAPTIONING = "image-captioning"
VISUAL_QUESTION_ANSWERING = "visual-question-answering"
IMAGE_TEXT_RETRIEVAL = "image-text-retrieval"
AUDIO_CLASSIFICATION = "audio-classification"

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
class AdaptSpec:
    """How Adapt trains a head on frozen features for this task."""

    label: str  # the page's choice of data ("Images")
    link: str  # that choice in a share link
    sources: tuple[str, ...]  # runner tasks a backbone is loaded for, in order (its preprocess is reused)
    batch: int  # samples per feature-extraction batch
    upload: str  # what a user's own set looks like, in words
    bundled: str  # file or folder under data/
    bundled_name: str  # the bundled set, in words


@dataclass(frozen=True)
class Playground:
    """Where a playground page runs this task: the page, its tool in a share link, the choice's label."""

    page: str  # "vision" | "text" | "speech" | "multimodal"
    tool: str = ""  # the page's tool that runs it (empty: the task name is the choice)
    label: str = ""  # the choice's label where the task name is the choice


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
    classifier: bool = False  # outputs ranked classes: runtime agreement compares the top-1 class
    attention_view: bool = False  # the attention view may open its transformer models
    explained: bool = False  # the explain CLI classifies or compares with it (its input kind picks it)
    generates: bool = False  # a text generator: FLOPs are estimated for generate()
    stress: str = ""  # the shape of its stress-test answers (components.explain.stress); empty: none
    playground: Playground | None = None
    adapt: AdaptSpec | None = None  # Adapt trains heads for it
    micro_batched: bool = False  # single playground inputs may share one forward pass across sessions (the runner
    # takes a list of inputs and answers each item as it would alone)

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
                     "transformers": "transformers-image-classifier"},
        classifier=True, explained=True, stress="photo", micro_batched=True,
        playground=Playground("vision", label="Image classification (ImageNet-1k)"),
        adapt=AdaptSpec("Images", "images", ("image-classification", "feature-extraction"), 16,
                        "a ZIP with one folder of images per class", "adapt/solar_cells",
                        "solar cells in electroluminescence (ELPV, 4 classes x 40)")),
    TaskSpec("object-detection", "image", pipeline="object-detection"),
    TaskSpec("ocr", "image", playground=Playground("vision", label="Read text (OCR)")),
    TaskSpec("feature-extraction", "text", pipeline="feature-extraction"),
    TaskSpec("word-embeddings", "text"),
    TaskSpec("sentence-similarity", "text", Evaluation(
        "sentence-pairs", "text/sentence_pairs.csv", "a CSV with columns sentence1,sentence2,score",
        (Metric("spearman", "Spearman ρ"),), scoring.score_spearman, scoring.pair_similarities,
        batched=True, items=scoring.items_spearman),
        pipeline="feature-extraction", hub_engines={"transformers": "transformers-encoder"},
        attention_view=True, explained=True, stress="closest-lines", playground=Playground("text", "similarity")),
    TaskSpec("zero-shot-classification", "text",  # by label embeddings, not transformers' NLI pipeline
             cost_only=True, hub_engines={"transformers": "transformers-encoder"},
             bench_options={"labels": ["sports", "politics", "science", "cooking"]},
             attention_view=True, stress="line-labels", playground=Playground("text", "zero-shot")),
    TaskSpec("language-identification", "text", Evaluation(
        "text-label", "text/languages.csv", "a CSV with columns text,label", _ACCURACY,
        scoring.classification_scorer(scoring.language_code), scoring.row_field("lang"), batched=True,
        items=scoring.classification_items(scoring.language_code)),
        attention_view=True, stress="line-lang", playground=Playground("text", "language")),
    TaskSpec("sentiment-analysis", "text", Evaluation(
        "text-label", "text/sentiment.csv", "a CSV with columns text,label", _ACCURACY,
        scoring.classification_scorer(scoring.sentiment_class), scoring.row_field("label"), batched=True,
        items=scoring.classification_items(scoring.sentiment_class)),
        pipeline="sentiment-analysis", hub_engines={"transformers": "transformers-sequence-classifier"},
        classifier=True, attention_view=True, explained=True, stress="line-label",
        playground=Playground("text", "sentiment")),
    TaskSpec("text-classification", "text", cost_only=True, pipeline="text-classification",
             hub_engines={"transformers": "transformers-sequence-classifier"},
             classifier=True, attention_view=True, explained=True,
             adapt=AdaptSpec("Text", "text", ("sentence-similarity", "feature-extraction", "zero-shot-classification"),
                             32, "a CSV with columns text,label", "adapt/fortunes.csv",
                             "fortune-cookie quotations by topic (4 classes x 40)")),
    TaskSpec("fill-mask", "text", cost_only=True, pipeline="fill-mask"),
    TaskSpec("text-generation", "text", cost_only=True, pipeline="text-generation", generates=True),
    TaskSpec("text2text-generation", "text", cost_only=True, auto_class="AutoModelForSeq2SeqLM"),
    TaskSpec("question-answering", "text", auto_class="AutoModelForQuestionAnswering"),
    TaskSpec("code-generation", "text", pipeline="text-generation", generates=True),
    TaskSpec("speech-recognition", "audio", Evaluation(
        "transcripts", "speech/transcripts.csv",
        "a ZIP of audio files with a transcripts.csv (file,transcript)",
        (Metric("wer", "Word error rate", False), Metric("cer", "Character error rate", False)),
        scoring.score_transcripts, scoring.transcript, items=scoring.items_transcripts),
        pipeline="automatic-speech-recognition", hub_engines={"transformers": "transformers-asr"},
        stress="clip", playground=Playground("speech")),
    TaskSpec("voice-activity-detection", "audio"),
    TaskSpec("speech-translation", "audio", pipeline="automatic-speech-recognition"),
    TaskSpec("zero-shot-image-classification", "image", cost_only=True, pipeline="zero-shot-image-classification",
             hub_engines={"transformers": "transformers-zero-shot-image"},
             bench_options={"labels": ["cat", "dog", "cup of coffee", "car", "rocket", "person", "clock"]},
             micro_batched=True, playground=Playground("multimodal", "zero-shot")),
    TaskSpec("image-captioning", "image", cost_only=True, pipeline="image-text-to-text",
             hub_engines={"transformers": "transformers-captioner"}, playground=Playground("multimodal", "caption")),
    TaskSpec("visual-question-answering", "image", pipeline="image-text-to-text"),
    TaskSpec("image-text-retrieval", "image"),
    TaskSpec("audio-classification", "audio", pipeline="audio-classification",  # Adapt only: no runner serves it
             adapt=AdaptSpec("Audio", "audio", ("speech-recognition", "feature-extraction"), 4,
                             "a ZIP with one folder of audio clips per class", "adapt/spoken_words",
                             "SYNTHETIC spoken words yes / no / up / down (espeak-ng, 20 voice settings each; "
                             "4 classes x 20)")),
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


def tasks_with(feature: str) -> tuple[str, ...]:
    """Tasks whose spec sets ``feature`` (a field: "classifier", "attention_view", "adapt", ...), in table order."""
    return tuple(name for name, spec in TASKS.items() if getattr(spec, feature))


def playground_tasks(page: str) -> dict[str, str]:
    """The tasks playground ``page`` runs: its tool (or the task name where that is the choice) -> task."""
    return {spec.playground.tool or name: name for name, spec in TASKS.items()
            if spec.playground is not None and spec.playground.page == page}
