"""The runner contract: load once, then preprocess -> forward -> postprocess, each stage timed.

Like a transformers pipeline, every runner splits its work into three stages; the result card and
the benchmark both read the same stage timings, so the app adds nothing to what is measured.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from components.core import CatalogEntry, InputError
from components.models.manager import LoadedModel
from components.models.measure import stage_timer
from components.models.runtimes.base import EAGER, Runtime

__all__ = ["InputError", "RunResult", "Runner", "label_list"]

E = TypeVar("E")


def label_list(options: dict[str, Any], task_name: str) -> list[str]:
    """The user's zero-shot labels, stripped; at least two, else an InputError naming the task."""
    labels = [label.strip() for label in options.get("labels", []) if label and label.strip()]
    if len(labels) < 2:
        raise InputError(f"{task_name} needs at least two labels.")
    return labels


@dataclass
class RunResult:
    """One model's answer to one input, with what it cost."""

    model_id: str
    model_name: str
    task: str
    output: Any
    stages_ms: dict[str, float]
    device: str
    weights: str
    runtime: str = EAGER.name
    batch_size: int = 1  # requests answered by one forward pass (cross-session batching); stages_ms is this one's share

    @property
    def latency_ms(self) -> float:
        """The model call itself: preprocess + forward + postprocess."""
        return sum(self.stages_ms.values())


class Runner:
    """Base class: subclasses implement the three stages for one task and one engine.

    The base owns how ``forward`` executes (:meth:`infer`): inside the runtime's context, which is
    torch's inference mode unless a caller (an explainer) asks for gradients.
    """

    task: str = ""

    def __init__(self, entry: CatalogEntry, loaded: LoadedModel, parts: tuple[Runner, ...] = (),
                 runtime: Runtime = EAGER) -> None:
        self.entry = entry
        self.loaded = loaded
        self.model = loaded.model
        self.device = loaded.device
        self.parts = parts  # runners of the models this one is built from (ConSE), handed in
        self.runtime = runtime

    def extras(self, kind: type[E]) -> E:
        """The loader's typed extras, checked to be of ``kind``."""
        extras = self.loaded.extras
        if not isinstance(extras, kind):
            raise TypeError(f"{self.entry.id}: the loader gave {type(extras).__name__}, "
                            f"{type(self).__name__} needs {kind.__name__}")
        return extras

    def preprocess(self, inputs: Any, **options: Any) -> Any:
        return inputs

    def forward(self, batch: Any) -> Any:
        raise NotImplementedError

    def postprocess(self, outputs: Any, inputs: Any, **options: Any) -> Any:
        return outputs

    def run(self, inputs: Any, **options: Any) -> RunResult:
        """Run the three stages on one input, timing each (never while an explainer hooks the model)."""
        with self.loaded.in_use():
            return self._run(inputs, **options)

    def _run(self, inputs: Any, **options: Any) -> RunResult:
        stages: dict[str, float] = {}
        with stage_timer(stages, "preprocess", self.device):
            batch = self.preprocess(inputs, **options)
        with stage_timer(stages, "forward", self.device):
            outputs = self.infer(batch)
        with stage_timer(stages, "postprocess", self.device):
            result = self.postprocess(outputs, inputs, **options)
        return RunResult(
            model_id=self.entry.id, model_name=self.entry.name, task=self.task, output=result,
            stages_ms=stages, device=self.device, weights=self.loaded.weights, runtime=self.runtime.name,
        )

    def infer(self, batch: Any, gradients: bool = False) -> Any:
        """``forward`` in the runtime's context; ``gradients=True`` keeps autograd on (explainers)."""
        with self.runtime.context(gradients):
            return self.forward(batch)

    def flops_call(self, inputs: Any, **options: Any) -> tuple[Any, tuple]:
        """(callable, args) whose call is the forward pass, for FLOP counting (locked like ``run``)."""
        batch = self.preprocess(inputs, **options)

        def locked_forward(prepared: Any) -> Any:
            with self.loaded.in_use():
                return self.infer(prepared)

        return locked_forward, (batch,)
