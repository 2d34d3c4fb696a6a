"""Why a model answered: one explanation per (model, input), the same for the playgrounds and the CLI.

Libraries: Captum 0.9 (``captum.attr``: LayerGradCam, LayerGradientXActivation, LayerActivation, Occlusion,
LayerIntegratedGradients), for every gradient and perturbation method; Grad-CAM++ and Score-CAM (not in
Captum) are written on top of Captum's layer gradients / activations in ``explain_cam``. ``grad-cam``
(pytorch-grad-cam) was not taken: it requires opencv-python-headless, which clashes with the opencv-python
already here, and ttach. Methods, per engine:

- image classifiers (torch, eager): Grad-CAM (the default), Grad-CAM++ or Score-CAM on the last feature map,
  for CNNs and for ViT / DeiT / Swin with their tokens laid out on the patch grid (``explain_cam``);
  engines without gradients (ONNX Runtime): occlusion sensitivity, labelled as such;
- transformers text classifiers: integrated gradients on the word embeddings (``explain_text``);
- sentence similarity: leave-one-word-out on the cosine; VADER: its own per-word valences.

``sanity_check`` is Adebayo et al. (NeurIPS 2018)'s model-randomisation test: the same method on the same
architecture with random weights must give a different map (Spearman correlation of the two maps).

    python -m components.explain --model ID --input PATH [--target CLASS] \\
        [--method gradcam|gradcam++|scorecam|occlusion|ig|loo|lexicon] [--runtime eager|onnx|onnx-int8] \\
        --json OUT.json

OUT.json: model_id, method, target, predicted (top-5 with scores), heatmap (2-D list in [0, 1], row-major,
in the photo's orientation and size), heatmap_shape, elapsed_ms; for a .txt input ``tokens`` [{token,
score}] instead of the heatmap (similarity: the first two lines; classifiers: the whole text). Any
error prints one line on stderr and exits 1.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from components.core import CliError, InputError, description, json_cli
from components.explain.image import CAM_METHODS
from components.models import CannotRun, Runner, TokenizerExtras

METHODS = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "scorecam": "Score-CAM",
           "occlusion": "occlusion sensitivity", "ig": "integrated gradients", "loo": "leave-one-word-out",
           "lexicon": "VADER lexicon (by design)"}
TOP_K = 5


@dataclass
class Explanation:
    """One model's explanation of one input: a heatmap (images) or token scores (text)."""

    model_id: str
    model_name: str
    method: str  # a key of METHODS
    target: str  # the class (or score) explained
    predicted: list[dict[str, Any]]  # top-5: label, score
    elapsed_ms: float
    heatmap: np.ndarray | None = None  # H x W of the photo, floats in [0, 1]
    tokens: list[dict[str, Any]] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def method_label(self) -> str:
        layer = self.details.get("layer")
        return METHODS[self.method] + (f" (layer {layer})" if layer else "")

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON object."""
        out: dict[str, Any] = {"model_id": self.model_id, "method": self.method, "target": self.target,
                               "predicted": self.predicted, "elapsed_ms": round(self.elapsed_ms, 3)}
        if self.heatmap is not None:
            out["heatmap"] = np.round(self.heatmap, 4).tolist()
            out["heatmap_shape"] = list(self.heatmap.shape)
        if self.tokens is not None:
            out["tokens"] = self.tokens
        return out | {"details": self.details}


@dataclass(frozen=True)
class SanityCheck:
    real: Explanation
    random: Explanation
    correlation: float  # Spearman, of the two maps at the feature map's resolution


def methods_for(runner: Runner, on_eager: bool = False) -> tuple[str, ...]:
    """The methods that explain this runner, the default first; () when none does. ``on_eager``: those that
    explain the same model on PyTorch eager (its weights; for int8, the fp32 weights it was quantised from)."""
    from components.explain.image import has_gradients
    from components.models import (
        ImageClassificationRunner,
        SentenceSimilarityRunner,
        TextClassificationRunner,
        VaderSentimentRunner,
    )

    if isinstance(runner, ImageClassificationRunner):
        return (*CAM_METHODS, "occlusion") if on_eager or has_gradients(runner) else ("occlusion",)
    if isinstance(runner, TextClassificationRunner):
        return ("ig",) if on_eager or runner.runtime.name == "eager" else ()
    if isinstance(runner, SentenceSimilarityRunner):
        return ("loo",)
    if isinstance(runner, VaderSentimentRunner):
        return ("lexicon",)
    return ()


def eager_reason(runner: Runner, method: str | None) -> str | None:
    """Why ``method`` (None: the default) explains ``runner``'s answer on PyTorch eager (the same weights; for int8,
    the fp32 weights it was quantised from): its runtime (ONNX Runtime) lacks the gradients or feature maps the
    method needs, which eager has. None where the runner's own runtime explains it (occlusion and
    leave-one-word-out only need forward passes)."""
    if runner.runtime.name == "eager":
        return None
    on_eager = methods_for(runner, on_eager=True)
    wanted = method or next(iter(on_eager), None)
    if wanted not in on_eager or wanted in methods_for(runner):
        return None
    needs = "feature maps" if wanted == "scorecam" else "gradients"
    weights = " (the fp32 weights it was quantised from)" if runner.runtime.int8 else ""
    return f"explained on PyTorch eager{weights}: {METHODS[wanted]} needs {needs}"


def runnable_method(runner: Runner, method: str | None) -> tuple[str | None, str | None]:
    """``method``, or occlusion and why, where ``method`` is a class activation map this runner cannot compute
    (a runtime with neither gradients nor feature maps: ONNX Runtime) but occlusion explains it."""
    offered = methods_for(runner)
    if method in CAM_METHODS and method not in offered and "occlusion" in offered:
        return "occlusion", (f"the {runner.runtime.name} runtime has no gradients or feature maps for "
                             f"{METHODS[method]}")
    return method, None


def resolve_target(labels: tuple[str, ...] | list[str], target: str | int | None, model: str) -> int | None:
    """A class index from an index, a label, or one of a label's comma-separated names ('tabby')."""
    if target is None or target == "":
        return None
    text = str(target).strip()
    if text.isdigit() and int(text) < len(labels):
        return int(text)
    lowered = [label.lower() for label in labels]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    for index, label in enumerate(lowered):
        if text.lower() in (name.strip() for name in label.split(",")):
            return index
    examples = ", ".join(f"'{label}'" for label in labels[:3])
    raise InputError(f"'{text}' is not a class of {model} (it has {len(labels)} classes, e.g. {examples})")


def explain(runner: Runner, inputs: Any, target: str | int | None = None, method: str | None = None,
            progress: Callable[[float], None] | None = None) -> Explanation:
    """Explain ``runner``'s answer on ``inputs`` (a PIL image, or text: one string; similarity: two).

    ``method``: a key of METHODS (None: the runner's first, with occlusion for a token model no class
    activation map knows). ``progress``: called with the share done (Score-CAM). Raises CannotRun (no
    explainer for this engine / method) or InputError (bad class or input).
    """
    offered = methods_for(runner)
    if runner.loaded.weights != "real":
        raise CannotRun(f"{runner.entry.name} has random weights here: there is no answer to explain")
    if not offered:
        raise CannotRun(f"this app has no explainer for {runner.entry.name} ({runner.task}"
                        f"{'' if runner.runtime.name == 'eager' else ', ' + runner.runtime.name})")
    requested, method = method, method or offered[0]
    if method not in offered:
        raise CannotRun(f"{runner.entry.name} on {runner.runtime.name} is explained by "
                        f"{', '.join(METHODS[m] for m in offered)}, not {METHODS.get(method, method)}")
    start = time.perf_counter()
    if method not in (*CAM_METHODS, "occlusion"):
        return _explain_text(runner, inputs, target, method, start)
    try:
        found = _explain_image(runner, inputs, target, method, start, progress)
    except CannotRun:
        if requested is not None or method != "gradcam":
            raise
        found = _explain_image(runner, inputs, target, "occlusion", start)  # a token model no rule knows
        found.details["instead"] = "no class activation map knows this model's tokens"
    if requested is None and method == "occlusion":
        found.details["instead"] = f"the {runner.runtime.name} runtime computes no gradients"
    return found


def _explain_image(runner: Runner, image: Any, target: str | int | None, method: str, start: float,
                   progress: Callable[[float], None] | None = None) -> Explanation:
    from components.explain.image import explain_pixels

    index = resolve_target(runner.loaded.extras.labels, target, runner.entry.name)
    found = explain_pixels(runner, image, index, method, progress=progress)
    return _image_explanation(runner, image, found, index, method, start)


def _image_explanation(runner: Runner, image: Any, found: Any, index: int | None, method: str,
                       start: float) -> Explanation:
    labels = runner.loaded.extras.labels
    ranked = runner.postprocess(found.logits, image, top_k=TOP_K)
    index = ranked[0]["index"] if index is None else index
    return Explanation(runner.entry.id, runner.entry.name, method, labels[index],
                       [{"label": r["label"], "index": r["index"], "score": r["score"]} for r in ranked],
                       (time.perf_counter() - start) * 1000, heatmap=found.heatmap,
                       details={"layer": found.layer, "target_index": index, "seen_box": list(found.box),
                                "model_map_shape": list(found.model_map.shape)})


def _explain_text(runner: Runner, inputs: Any, target: str | int | None, method: str, start: float) -> Explanation:
    from components.explain.text import integrated_gradients, similarity_words, vader_words

    lines = [inputs] if isinstance(inputs, str) else [line for line in inputs if line.strip()]
    if not lines:
        raise InputError("There is no text to explain.")
    if method != "ig" and target not in (None, ""):
        raise InputError(f"{runner.entry.name} explains its own score ({METHODS[method]}): it takes no target class")
    if method == "loo":
        if len(lines) < 2:
            raise InputError("Similarity needs two sentences to explain (two lines).")
        scores, explained = similarity_words(runner, lines[0], lines[1]), "cosine similarity of sentences 1 and 2"
        predicted = [{"label": "cosine similarity", "score": scores.details["similarity"]}]
    else:
        text = " ".join(lines)
        answer = runner.run([text]).output[0]
        predicted = sorted(({"label": k, "score": v} for k, v in answer["scores"].items()),
                           key=lambda row: -abs(row["score"]))[:TOP_K]
        if method == "lexicon":
            scores, explained = vader_words(runner, text), f"compound score ({answer['label']})"
        else:
            labels = list(runner.extras(TokenizerExtras).labels)
            lowered = [label.lower() for label in labels]
            index = resolve_target(labels, target, runner.entry.name)
            index = lowered.index(answer["label"]) if index is None else index
            scores, explained = integrated_gradients(runner, text, index), labels[index]
    return Explanation(runner.entry.id, runner.entry.name, method, explained, predicted,
                       (time.perf_counter() - start) * 1000, tokens=scores.tokens, details=scores.details)


def sanity_check(real: Runner, random: Runner, image: Any, target: str | int | None = None,
                 method: str = "gradcam", progress: Callable[[float], None] | None = None) -> SanityCheck:
    """The real model's class activation map (``method``) beside the same architecture's with random weights,
    on the same input tensor and class; their Spearman correlation at the feature map's own resolution
    (upsampling would only add smoothness both maps share)."""
    from components.explain.image import explain_pixels, map_correlation

    if method not in CAM_METHODS:
        raise CannotRun(f"the sanity check compares class activation maps "
                        f"({', '.join(METHODS[m] for m in CAM_METHODS)}), not {METHODS.get(method, method)}")
    if real.loaded.weights != "real" or method not in methods_for(real):
        raise CannotRun(f"the sanity check compares {METHODS[method]} maps: {real.entry.name} has no real "
                        "weights with gradients here")
    start = time.perf_counter()
    index = resolve_target(real.loaded.extras.labels, target, real.entry.name)
    found = explain_pixels(real, image, index, method, progress=_half(progress, 0))
    explained = _image_explanation(real, image, found, index, method, start)
    start = time.perf_counter()
    index = explained.details["target_index"]
    randomised = explain_pixels(random, image, index, method, preprocessing=real,
                                progress=_half(progress, 1))
    shuffled = Explanation(random.entry.id, f"{random.entry.name} (random weights)", method, explained.target,
                           [], (time.perf_counter() - start) * 1000, heatmap=randomised.heatmap,
                           details={"layer": randomised.layer, "target_index": index, "weights": "random"})
    return SanityCheck(explained, shuffled, map_correlation(found.model_map, randomised.model_map))


def _half(progress: Callable[[float], None] | None, which: int) -> Callable[[float], None] | None:
    """``progress`` for one of two equal halves of a job (0: the first)."""
    return None if progress is None else lambda share: progress((which + share) / 2)


# ---------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.explain", description=description(__doc__))
    parser.add_argument("--model", required=True, help="catalog id, e.g. efficientnet_lite0")
    parser.add_argument("--input", required=True, type=Path, help="an image, or a .txt file")
    parser.add_argument("--target", default=None, help="class to explain (name or index); default: the top class")
    parser.add_argument("--method", choices=tuple(METHODS), default=None, help="default: the model's first method")
    parser.add_argument("--runtime", default="eager", help="eager (default), onnx, onnx-int8")
    parser.add_argument("--json", required=True, type=Path, help="where to write the explanation")
    return parser.parse_args(argv)


def read_input(path: Path) -> tuple[str, Any]:
    """('text', lines) for a .txt file, else ('image', a validated PIL image)."""
    from components.core import decode_text_file, load_image, text_lines

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".txt":
        return "text", text_lines(decode_text_file(data, path.name).data)
    return "image", load_image(data, path.name).data


def run(args: argparse.Namespace) -> Explanation:
    from components.core import default_catalog, get_entry, get_task, tasks_with
    from components.models import create_runner

    kind, inputs = read_input(args.input)
    try:
        entry = get_entry(args.model, default_catalog())
    except KeyError:
        raise CliError(f"unknown model id '{args.model}' (ids are listed in catalog.yaml)") from None
    task = next((t for t in tasks_with("explained") if get_task(t).input_kind == kind and t in entry.tasks), None)
    if task is None:
        raise CliError(f"{args.model} does not take {'an image' if kind == 'image' else 'text'} to classify or "
                       f"compare (it does: {', '.join(entry.tasks)})")
    runner = create_runner(entry, task, "real", runtime=args.runtime)
    return explain(runner, inputs, args.target, args.method)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from components.core import CatalogError

    def produce() -> tuple[dict[str, Any], str]:
        explanation = run(args)
        return explanation.to_json(), (f"{explanation.model_id}: {explanation.method_label} of "
                                       f"'{explanation.target}' in {explanation.elapsed_ms:.0f} ms -> {args.json}")

    return json_cli(produce, args.json, (CannotRun, InputError, CatalogError, KeyError))

