"""Self-attention of transformer text models: one text + a loaded runner -> its tokens and every head's
attention map, an array [layers, heads, T, T] whose row q is how token q spreads its attention over the tokens.

transformers (5.x) runs these models with PyTorch's fused SDPA attention by default, which returns no
attention weights: for this one call the shared model is switched to the "eager" attention implementation
(``PreTrainedModel.set_attn_implementation``, same weights, same outputs within float error) under its
exclusive lock, then switched back. Engines without attention weights (ONNX Runtime, fastText, VADER)
raise :class:`NoAttention` with one line that says why.

    python -m components.attention --model ID --text "A sentence." [--runtime eager] [--max-tokens 64] \\
        --json OUT.json

OUT.json: model_id, task, tokens, layers, heads, truncated, elapsed_ms, head_entropy_bits [layers][heads] and
weights [layers][heads][T][T] (row q: how token q spreads its attention; 4 decimals). Any error prints one
line on stderr and exits 1 (a model without attention included).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from components.core import CatalogEntry, InputError, description, tasks_with
from components.models import Runner, Runtime, TokenizerExtras, engine_key

MAX_TOKENS = 64  # a longer text is cut: a 64 x 64 map is already at the edge of readable
# Text tasks whose models may be transformers, in the order a model's runner is picked (the Text page and the CLI);
# the non-transformer engines among them are listed too, so picking one says why it has no attention.
TASKS = tasks_with("attention_view")
# Engines among them that are no transformer (a word list, a linear classifier): known from the catalog entry, so
# the answer names the model, on any runtime, before anything is loaded or exported.
NOT_TRANSFORMERS = ("fasttext_lid", "vader")


class NoAttention(ValueError):
    """This model or runtime gives no attention weights (the message says why, in one line)."""


@dataclass(frozen=True)
class AttentionMaps:
    model_id: str
    tokens: list[str]  # as the tokenizer splits the text, special tokens included
    weights: np.ndarray  # float32 [layers, heads, T, T]; each row sums to 1
    truncated: bool  # the text had more than ``MAX_TOKENS`` tokens
    elapsed_ms: float

    @property
    def layers(self) -> int:
        return self.weights.shape[0]

    @property
    def heads(self) -> int:
        return self.weights.shape[1]

    def to_json(self, task: str) -> dict[str, Any]:
        """What the CLI writes: tokens, sizes, every head's entropy and map (4 decimals)."""
        return {"model_id": self.model_id, "task": task, "tokens": self.tokens, "layers": self.layers,
                "heads": self.heads, "truncated": self.truncated, "elapsed_ms": round(self.elapsed_ms, 1),
                "head_entropy_bits": np.round(head_entropy(self.weights), 4).tolist(),
                "weights": np.round(self.weights.astype(np.float64), 4).tolist()}


def attention_maps(runner: Runner, text: str, max_tokens: int = MAX_TOKENS) -> AttentionMaps:
    """Every layer's and head's attention on ``text`` (cut to ``max_tokens`` tokens)."""
    import torch

    if not text or not text.strip():
        raise InputError("There is no text to look at: type a sentence first.")
    model, tokenizer = _transformer(runner)
    started = time.perf_counter()
    limit = getattr(tokenizer, "model_max_length", None)  # the model's positions (a huge sentinel when unknown)
    if isinstance(limit, int) and limit < 100_000:
        max_tokens = min(max_tokens, limit)
    batch = tokenizer([text], truncation=True, max_length=max_tokens, return_tensors="pt")
    truncated = len(tokenizer(text)["input_ids"]) > max_tokens
    batch = {name: tensor.to(runner.device) for name, tensor in batch.items()}
    with runner.loaded.hooked():  # the implementation switch is seen by every user of the shared model
        previous = model.config._attn_implementation
        model.set_attn_implementation("eager")
        try:
            with torch.inference_mode():
                attentions = model(**batch, output_attentions=True).attentions
        finally:
            model.set_attn_implementation(previous)
    if not attentions:
        raise NoAttention(f"{runner.entry.name} returned no attention weights: its {previous} attention cannot "
                          "be switched to the eager implementation that returns them")
    weights = torch.stack(attentions)[:, 0].float().cpu().numpy()  # [layers, 1, heads, T, T] -> one text
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
    return AttentionMaps(runner.entry.id, tokens, weights, truncated, (time.perf_counter() - started) * 1000)


def _transformer(runner: Runner) -> tuple[Any, Any]:
    """(the transformers model, its tokenizer), or NoAttention saying why this runner has none."""
    name = runner.entry.name
    check_runtime(name, runner.runtime)
    model, extras = runner.model, runner.loaded.extras
    if not hasattr(model, "set_attn_implementation") or not isinstance(extras, TokenizerExtras):
        raise NoAttention(_not_a_transformer(runner.entry))
    return model, extras.tokenizer


def _not_a_transformer(entry: CatalogEntry) -> str:
    return f"{entry.name} is not a transformer (engine: {entry.source.engine}): it has no attention weights to show"


def check_model(entry: CatalogEntry, task: str, runtime: Runtime) -> None:
    """NoAttention before any loading (an export is not worth a "no"): first where the catalog names an engine
    that is no transformer (it has none on any runtime), then where ``runtime`` is not eager."""
    if engine_key(entry, "real", task) in NOT_TRANSFORMERS:
        raise NoAttention(_not_a_transformer(entry))
    check_runtime(entry.name, runtime)


def check_runtime(model_name: str, runtime: Runtime) -> None:
    """NoAttention unless ``runtime`` is eager: an exported graph (ONNX Runtime) returns only the outputs."""
    if runtime.name != "eager":
        raise NoAttention(f"{model_name} on {runtime.label} returns no attention weights: pick the PyTorch "
                          "eager runtime to see them")


def head_entropy(weights: np.ndarray) -> np.ndarray:
    """[layers, heads]: each head's attention entropy in bits, averaged over its query tokens (0: every token
    looks at one token; log2 T: every token looks at all of them evenly)."""
    p = np.clip(weights.astype(np.float64), 1e-12, 1.0)
    return (-(weights * np.log2(p)).sum(-1)).mean(-1)


# ---------------------------------------------------------------- CLI

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m components.attention", description=description(__doc__))
    parser.add_argument("--model", required=True, help="catalog id, e.g. all_minilm_l6_v2")
    parser.add_argument("--text", required=True, help="the sentence to look at")
    parser.add_argument("--runtime", default="eager", help="eager (default); exported runtimes have no attention")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help=f"cut longer texts (default {MAX_TOKENS})")
    parser.add_argument("--json", required=True, type=Path, help="where to write the maps")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> tuple[AttentionMaps, str]:
    """(the maps, the task the model was loaded for)."""
    from components.core import CliError, default_catalog, get_entry
    from components.models import create_runner, get_runtime, runner_tasks

    try:
        entry = get_entry(args.model, default_catalog())
    except KeyError:
        raise CliError(f"unknown model id '{args.model}' (ids are listed in catalog.yaml)") from None
    if args.max_tokens < 2:
        raise CliError("--max-tokens must be at least 2")
    task = next((t for t in TASKS if t in runner_tasks(entry, "real")), None)
    if task is None:
        raise CliError(f"{args.model} runs no text task here with real weights (its tasks: {', '.join(entry.tasks)})")
    check_model(entry, task, get_runtime(args.runtime))
    runner = create_runner(entry, task, "real", runtime=args.runtime)
    return attention_maps(runner, args.text, args.max_tokens), task


def main(argv: list[str] | None = None) -> int:
    from components.core import CatalogError, json_cli
    from components.models import CannotRun

    args = parse_args(argv)

    def produce() -> tuple[dict[str, Any], str]:
        maps, task = run(args)
        return maps.to_json(task), (f"{maps.model_id}: {maps.layers} layers x {maps.heads} heads over "
                                    f"{len(maps.tokens)} tokens{' (cut)' if maps.truncated else ''} in "
                                    f"{maps.elapsed_ms:.0f} ms -> {args.json}")

    return json_cli(produce, args.json, (CannotRun, NoAttention, InputError, CatalogError, KeyError))

