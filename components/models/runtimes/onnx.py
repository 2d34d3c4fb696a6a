"""ONNX Runtime as a runtime: ``onnx`` (fp32) and ``onnx-int8`` (static QDQ int8 calibrated on the
bundled photos for image models; dynamic int8 for transformer text encoders, which are MatMul-bound).
int8 weights are 7-bit on an x86 CPU without VNNI, whose u8 x s8 kernels saturate 16-bit sums (:func:`int8_choice`).

The loaded torch model is exported once per (model, weights, their fingerprint, opset, runtime) with torch's
TorchScript exporter (opset 17: 1-2 s here; the dynamo exporter took 25 s for EfficientNet-Lite0) and cached
on disk under the app's data folder; exports of other weights of the same model are then removed. The runner
calls an :class:`OnnxModel` exactly as it called the torch module. An export that fails raises CannotRun
naming the operator, so the eager row still runs.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import platform
import re
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from components.core import CatalogEntry, torch_threads
from components.models.extras import ArchitectureExtras, ImageTransformExtras, ProcessorExtras, TokenizerExtras
from components.models.fingerprint import sweep_scratch, weights_fingerprint
from components.models.manager import LoadedModel
from components.models.measure import cpu_flag_set
from components.models.registry import CannotRun
from components.models.runtimes.base import Runtime, register_runtime

OPSET = 17
STALE_EXPORT_S = 3600  # an export of other weights unused this long is removed when a new one is made
CACHE_ENV = "MODEL_EXPLORER_ONNX_DIR"
VNNI_ENV = "MODEL_EXPLORER_INT8_VNNI"  # "0" / "1": quantize as for a CPU without / with VNNI (default: its flags)
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})  # 8-bit dot products that do not saturate
X86 = ("x86_64", "amd64", "i386", "i686")
# Static int8 calibration photos: scikit-image samples that are NOT in the bundled evaluation set, so the
# agreement measured on that set is out of sample.
CALIBRATION_SAMPLES = ("astronaut", "hubble_deep_field", "immunohistochemistry", "retina", "coins", "moon",
                       "grass", "gravel", "brick", "colorwheel", "horse", "cell", "logo", "page", "text")
EXAMPLE_TEXTS = ["An example sentence for the exporter.", "Another one."]


def cache_dir() -> Path:
    """Where exported models live: MODEL_EXPLORER_ONNX_DIR or ~/.model_explorer/onnx."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".model_explorer" / "onnx")


@dataclass(frozen=True)
class Int8Choice:
    """How int8 weights are stored for this CPU, and why (shown on the row)."""

    reduce_range: bool  # 7-bit weights: ONNX Runtime's advice for x86 CPUs without VNNI
    basis: str

    @property
    def suffix(self) -> str:
        """The export's file-name suffix: the two kinds never share a file."""
        return "-w7" if self.reduce_range else ""

    def describe(self) -> str:
        return f"{'7-bit weights (reduce_range)' if self.reduce_range else '8-bit weights'}: {self.basis}"


def int8_choice(flags: frozenset[str] | None = None, machine: str | None = None) -> Int8Choice:
    """7-bit weights on an x86 CPU without VNNI / AMX, where ONNX Runtime's u8 x s8 kernels sum pairs of
    products in 16 bits and saturate (Lite0 top-1 agreement 0.44 with 8-bit weights, 0.78 with 7-bit, under
    an emulated Haswell); 8-bit elsewhere. MODEL_EXPLORER_INT8_VNNI=0 / 1 overrides the flags."""
    forced = os.environ.get(VNNI_ENV, "").strip()
    if forced in ("0", "1"):
        return Int8Choice(forced == "0", f"{VNNI_ENV}={forced}")
    machine = (machine or platform.machine()).lower()
    if machine not in X86:
        return Int8Choice(False, f"{machine or 'this'} CPU, not x86")
    found = sorted((cpu_flag_set() if flags is None else flags) & VNNI_FLAGS)
    if found:
        return Int8Choice(False, f"this CPU has VNNI ({', '.join(found)})")
    return Int8Choice(True, "this x86 CPU has no VNNI (avx512_vnni / avx_vnni / amx_int8)")


class OnnxModel:
    """An ONNX Runtime session called like the torch module it came from (tensors in, tensors out)."""

    def __init__(self, path: Path, text: bool, int8: Int8Choice | None = None) -> None:
        import onnxruntime as ort

        ort.set_default_logger_severity(3)  # errors only: the graph optimiser's notes are not for users
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.path, self.text, self.int8 = path, text, int8

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch

        given = dict(zip(self.input_names, args)) | kwargs
        feed = {name: np.ascontiguousarray(given[name].detach().cpu().numpy()) for name in self.input_names}
        outputs = [torch.from_numpy(o) for o in self.session.run(self.output_names, feed)]
        if self.output_names == ["output"]:
            return outputs[0]
        return OnnxOutputs(zip(self.output_names, outputs))


class OnnxOutputs(dict):
    """Named outputs readable like a transformers ModelOutput (``out.last_hidden_state``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class OnnxRuntime(Runtime):
    name = "onnx"
    label = "ONNX Runtime fp32"
    gradients = False

    def prepare(self, loaded: LoadedModel, entry: CatalogEntry) -> LoadedModel:
        example, text = example_inputs(loaded, entry)
        choice = int8_choice() if self.int8 else None
        stem = f"{entry.id}-{loaded.weights}-{weights_fingerprint(loaded.model)}-opset{OPSET}"
        path = cache_dir() / f"{stem}-{self.name}{choice.suffix if choice else ''}.onnx"
        if not _mark_used(path):
            _build(loaded, entry, example, text, stem, path, choice)
        try:
            model = OnnxModel(path, text, choice)
        except Exception:  # noqa: BLE001 - a cached export cut short (a full disk, a killed copy): made anew, once
            _remove(path)
            _build(loaded, entry, example, text, stem, path, choice)
            model = OnnxModel(path, text, choice)
        return dataclasses.replace(loaded, model=model, size_mb=path.stat().st_size / 2**20)

    def details(self, loaded: LoadedModel) -> dict[str, str]:
        choice = getattr(loaded.model, "int8", None)
        return {"int8": choice.describe()} if choice else {}

    def context(self, gradients: bool = False) -> AbstractContextManager:
        if gradients:
            raise CannotRun("ONNX Runtime computes no gradients: explain this model on the eager runtime")
        return nullcontext()


class OnnxInt8Runtime(OnnxRuntime):
    name = "onnx-int8"
    label = "ONNX Runtime int8"
    int8 = True


def remove_other_exports(model_id: str, weights: str, stem: str) -> None:
    """Delete exports of ``model_id``'s ``weights`` made from other weights (another fingerprint or opset, or
    the older names without a fingerprint) and unused for STALE_EXPORT_S: the cache keeps about one set per
    model and weights, while two sessions on two checkpoints of one model do not delete each other's exports
    (nor one that another thread is about to open)."""
    ours = re.compile(rf"{re.escape(model_id)}-{re.escape(weights)}-(?:[0-9a-f]{{12}}-)?opset\d+"
                      r"-onnx(-int8(-w7)?)?\.onnx")
    for path in cache_dir().glob(f"{model_id}-{weights}-*.onnx"):
        if ours.fullmatch(path.name) and not path.name.startswith(f"{stem}-") and _idle_for(path) > STALE_EXPORT_S:
            path.unlink(missing_ok=True)


def _build(loaded: LoadedModel, entry: CatalogEntry, example: Any, text: bool, stem: str, path: Path,
           choice: Int8Choice | None) -> None:
    """Export (and quantize) the model to ``path``, reusing a cached fp32 export that still parses; stale
    scratch files and exports of other weights are removed meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_scratch(path.parent)
    fp32 = cache_dir() / f"{stem}-onnx.onnx"
    if fp32 == path or not _parses(fp32):
        export(loaded.model, example, fp32, text, entry)
    if choice:
        quantize(fp32, path, text, loaded, entry, choice)
    remove_other_exports(entry.id, loaded.weights, stem)


def _parses(path: Path) -> bool:
    """An export at ``path``, marked used, that reads as an ONNX graph (one cut short is removed)."""
    import onnx

    if not _mark_used(path):
        return False
    try:
        if onnx.load(str(path), load_external_data=False).graph.node:  # an empty file parses, without nodes
            return True
    except Exception:  # noqa: BLE001 - protobuf's DecodeError, or any other sign of a damaged file
        pass
    _remove(path)
    return False


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # a read-only cache: exporting anew fails there with its own message
        pass


def _mark_used(path: Path) -> bool:
    """Mark an export used now, before it is opened (so it is not removed as stale meanwhile); False when there
    is none yet. A read-only cache cannot be marked, and keeps its files anyway."""
    try:
        os.utime(path)
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return path.exists()


def _idle_for(path: Path) -> float:
    """Seconds since ``path`` was last written or opened (0 when it is gone)."""
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def scratch_path(path: Path, suffix: str = ".tmp") -> Path:
    """A temporary name beside ``path`` that no other process or thread writing the same file uses."""
    return path.with_suffix(f".{os.getpid()}.{threading.get_ident()}{suffix}")


def example_inputs(loaded: LoadedModel, entry: CatalogEntry) -> tuple[Any, bool]:
    """(an input the model takes, whether it is text) built from the loader's own preprocessing."""
    from PIL import Image

    extras = loaded.extras
    blank = Image.new("RGB", (320, 320), (128, 128, 128))
    if isinstance(extras, ImageTransformExtras):
        return extras.transform(blank).unsqueeze(0), False
    if isinstance(extras, ProcessorExtras) and extras.labels:
        return extras.processor(images=[blank], return_tensors="pt")["pixel_values"], False
    if isinstance(extras, TokenizerExtras):
        return dict(extras.tokenizer(EXAMPLE_TEXTS, padding=True, return_tensors="pt")), True
    if isinstance(extras, ArchitectureExtras):
        from components.models.runners.architecture import RandomWeightsRunner

        kind = extras.input_spec["kind"]
        if kind == "pixels" or (kind == "pixel_values" and "vocab_size" not in extras.input_spec):
            return RandomWeightsRunner(entry, loaded).preprocess(blank), False
        if kind == "input_ids" and "pixels" not in extras.input_spec and "decoder_start" not in extras.input_spec:
            return RandomWeightsRunner(entry, loaded).preprocess(EXAMPLE_TEXTS), True
    raise CannotRun(f"{entry.name}: this app exports image classifiers and text encoders to ONNX, not this model")


def export(model: Any, example: Any, path: Path, text: bool, entry: CatalogEntry) -> None:
    """torch.onnx.export (TorchScript exporter, opset 17) with a dynamic batch (and sequence) axis."""
    import torch

    names = list(example) if isinstance(example, dict) else ["pixels"]
    tensors = tuple(example.values()) if isinstance(example, dict) else (example,)
    with torch.inference_mode():
        sample = model(**example) if isinstance(example, dict) else model(example)
    outputs = ["output"] if torch.is_tensor(sample) else [k for k, v in sample.items() if torch.is_tensor(v)]
    axes = {0: "batch", 1: "sequence"} if text else {0: "batch"}
    dynamic = {n: axes for n in names} | {n: {0: "batch", 1: "sequence"} if text and n == "last_hidden_state"
                                          else {0: "batch"} for n in outputs}
    tmp = scratch_path(path)
    try:
        torch.onnx.export(_positional(model, names, outputs, isinstance(example, dict)), tensors, str(tmp),
                          opset_version=OPSET, input_names=names, output_names=outputs,
                          dynamic_axes=dynamic, dynamo=False)
    except Exception as exc:  # noqa: BLE001 - an exporter failure becomes one readable line
        tmp.unlink(missing_ok=True)
        raise CannotRun(f"{entry.name} cannot be exported to ONNX: {unsupported_operator(exc)}") from exc
    tmp.replace(path)


def unsupported_operator(exc: Exception) -> str:
    """The operator an exporter error names, else its first line."""
    text = str(exc)
    found = re.search(r"((?:aten|prim|onnx)::[\w.]+)", text) or re.search(r"operator '?([\w:.]+)'?", text)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"unsupported operator {found.group(1)} ({first[:160]})" if found else first[:200]


def quantize(fp32: Path, path: Path, text: bool, loaded: LoadedModel, entry: CatalogEntry,
             choice: Int8Choice) -> None:
    """Dynamic int8 (weights) for text encoders; static QDQ int8 calibrated on sample photos otherwise; 7-bit
    weights where ``choice`` says so.

    Static settings, tried on EfficientNet-Lite0 (top-1 agreement with fp32 on 20 photos / p50 ms, one
    thread, busy machine): asymmetric u8 activations 0.50 / 15.4, entropy 0.50 / 13.2, percentile 0.75 / 14.8,
    symmetric s8 activations 0.90 / 23.9 (fp32 ONNX: 15.7 ms). Symmetric s8 keeps the most answers; with 7-bit
    weights too (bundled photos, with VNNI: 0.78 vs 0.67 8-bit; u8 asymmetric 0.22 either way).
    """
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    tmp, prepared = scratch_path(path), scratch_path(path, ".pre.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice on the root logger
    try:
        if text:
            # per-channel weights: MiniLM cosine to fp32 0.993 mean on the bundled sentences (per-tensor: 0.967)
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=choice.reduce_range)
        else:
            quant_pre_process(str(fp32), str(prepared))  # shape inference + graph optimisation first
            quantize_static(str(prepared), str(tmp), _Calibration(loaded, entry), quant_format=QuantFormat.QDQ,
                            per_channel=True, reduce_range=choice.reduce_range, activation_type=QuantType.QInt8,
                            weight_type=QuantType.QInt8, extra_options={"ActivationSymmetric": True})
    except CannotRun:
        raise
    except Exception as exc:  # noqa: BLE001
        tmp.unlink(missing_ok=True)
        raise CannotRun(f"{entry.name} cannot be quantized to int8: {type(exc).__name__}: {exc}") from exc
    finally:
        root.setLevel(level)
        prepared.unlink(missing_ok=True)
    tmp.replace(path)


class _Calibration:
    """onnxruntime's CalibrationDataReader over scikit-image's sample photos (none of them in the bundled
    evaluation set) and their mirror images, preprocessed as the model does."""

    def __init__(self, loaded: LoadedModel, entry: CatalogEntry) -> None:
        import skimage.data
        from PIL import Image, ImageOps

        extras = loaded.extras
        arrays = [np.asarray(getattr(skimage.data, name)()) for name in CALIBRATION_SAMPLES]
        originals = [Image.fromarray(a.astype(np.uint8) * (255 if a.dtype == bool else 1)).convert("RGB")
                     for a in arrays]
        photos = originals + [ImageOps.mirror(p) for p in originals]
        if isinstance(extras, ImageTransformExtras):
            batches = [extras.transform(p).unsqueeze(0) for p in photos]
        elif isinstance(extras, ProcessorExtras):
            batches = [extras.processor(images=[p], return_tensors="pt")["pixel_values"] for p in photos]
        else:
            from components.models.runners.architecture import RandomWeightsRunner

            runner = RandomWeightsRunner(entry, loaded)
            batches = [runner.preprocess(p) for p in photos]
        self._feeds = iter([{"pixels": b.numpy()} for b in batches])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def _positional(model: Any, names: list[str], outputs: list[str], by_name: bool) -> Any:
    """The module as the exporter wants it: positional tensors in, a tensor or a tuple of tensors out."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            out = self.model(**dict(zip(names, tensors))) if by_name else self.model(*tensors)
            return out if torch.is_tensor(out) else tuple(out[k] for k in outputs)

    return Positional().eval()


register_runtime(OnnxRuntime())
register_runtime(OnnxInt8Runtime())
