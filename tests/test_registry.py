"""The task table, the engine registry, the factory and the runtime seam."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from components.core.catalog import default_catalog, get_entry
from components.core.tasks import TASKS, playground_tasks, tasks_with
from components.models import factory, registry
from components.models.factory import CannotRun, create_runner, runner_tasks
from components.models.manager import ModelManager
from components.models.registry import engine_key, get_engine, register_engine, runner_class
from components.models.runtimes import base as runtimes
from components.models.runtimes.base import EAGER, Runtime, register_runtime, runtime_names


def test_every_engine_the_catalog_and_task_table_name_is_registered():
    named = {e.source.engine for e in default_catalog() if e.source.kind == "pypi"}
    named |= {engine for spec in TASKS.values() for engine in spec.hub_engines.values()}
    missing = {name for name in named if get_engine(name) is None}
    assert not missing


def test_every_catalog_task_has_a_spec_and_every_metric_a_direction():
    assert {t for e in default_catalog() for t in e.tasks} <= set(TASKS)
    for spec in TASKS.values():
        if spec.evaluation:
            assert spec.evaluation.metrics and spec.headline is spec.evaluation.metrics[0]
    assert TASKS["speech-recognition"].headline.higher_is_better is False
    assert TASKS["image-classification"].headline.key == "top1"


@pytest.mark.parametrize("model_id, weights, task, engine", [
    ("efficientnet_lite0", "real", "image-classification", "efficientnet_lite"),
    ("efficientnet_lite0", "random", "image-classification", "architecture"),
    ("vgg16", "real", "image-classification", "torchvision"),
    ("resnet50", "real", "image-classification", "timm"),
    ("finbert", "real", "text-classification", "transformers-sequence-classifier"),
    ("finbert", "real", "sentiment-analysis", "transformers-sequence-classifier"),
    ("bert_base_uncased", "real", "fill-mask", None),  # no real fill-mask runner yet
])
def test_engine_key_reads_the_source_kind_and_the_task_table(model_id, weights, task, engine):
    entry = get_entry(model_id)
    assert task in entry.tasks
    assert engine_key(entry, weights, task) == engine


def test_random_weights_serve_any_task_real_weights_only_registered_ones():
    bert = get_entry("bert_base_uncased")
    assert runner_class(bert, "random", "fill-mask") is not None
    assert runner_class(bert, "real", "fill-mask") is None
    assert runner_tasks(bert, "real") == ("text-classification",)  # the only task with a real runner
    assert set(runner_tasks(bert, "auto")) == set(bert.tasks)  # offline: every task on random weights


def test_base_runner_owns_inference_mode_and_gives_gradients_on_request(chelsea):
    runner = create_runner(get_entry("efficientnet_lite0"), "image-classification")
    batch = runner.preprocess(chelsea)
    assert runner.infer(batch).requires_grad is False
    explained = runner.infer(batch, gradients=True)
    assert explained.requires_grad and explained.grad_fn is not None
    explained[0, explained[0].argmax()].backward()  # an explainer can differentiate the same runner
    assert next(runner.model.parameters()).grad is not None
    runner.model.zero_grad(set_to_none=True)


def test_conse_parts_come_from_the_manager_it_is_given(chelsea, monkeypatch):
    manager = ModelManager(budget_mb=8192)
    runner = create_runner(get_entry("conse_effnet_minilm"), manager=manager)
    assert set(manager.load_counts) == {
        "efficientnet_lite0:real:efficientnet_lite:eager", "all_minilm_l6_v2:real:minilm:eager",
        "conse_effnet_minilm:real:conse:eager"}
    assert [p.entry.id for p in runner.parts] == ["efficientnet_lite0", "all_minilm_l6_v2"]
    # a run does model work only: no availability check, no factory call inside a timed stage
    monkeypatch.setattr(factory, "compute_availability", lambda *a, **k: pytest.fail("availability in a run"))
    monkeypatch.setattr(factory, "create_runner", lambda *a, **k: pytest.fail("factory in a run"))
    out = runner.run(chelsea, labels=["cat", "car", "cup of coffee"]).output
    assert out["labels"][0]["label"] == "cat"


class CountingRuntime(Runtime):
    """A second runtime for the seam test: the same module behind a proxy that counts forward calls."""

    name = "counting"
    label = "eager, counted"

    def prepare(self, loaded, entry):
        import dataclasses

        class Counted:
            calls = 0

            def __call__(self, *args, **kwargs):
                Counted.calls += 1
                return loaded.model(*args, **kwargs)

        return dataclasses.replace(loaded, model=Counted())


def test_a_runtime_is_chosen_apart_from_the_catalog_entry(chelsea, monkeypatch):
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    monkeypatch.setattr(runtimes, "_RUNTIMES", dict(runtimes._RUNTIMES))  # undone after the test
    register_runtime(CountingRuntime())
    lite = get_engine("efficientnet_lite")
    register_engine(lite.name, lite.loader, lite.runners, runtimes=("eager", "counting"))
    entry = get_entry("efficientnet_lite0")
    manager = ModelManager(budget_mb=8192)
    eager = create_runner(entry, "image-classification", manager=manager).run(chelsea)
    counted_runner = create_runner(entry, "image-classification", manager=manager, runtime="counting")
    counted = counted_runner.run(chelsea)
    assert "counting" in runtime_names() and counted.runtime == "counting" and eager.runtime == EAGER.name
    assert counted_runner.model.calls == 1
    assert [r["index"] for r in counted.output] == [r["index"] for r in eager.output]
    assert len(manager.load_counts) == 2  # one cached model per runtime


def test_an_engine_refuses_a_runtime_it_does_not_list():
    with pytest.raises(CannotRun, match="does not run on the onnx runtime"):
        create_runner(get_entry("vader"), runtime="onnx")


ROOT = Path(__file__).resolve().parent.parent
TASK_TABLE = ROOT / "components" / "core" / "tasks.py"


def task_literals(source: str) -> list[tuple[int, str]]:
    """(line, name) of each string constant in ``source`` that is a task name, docstrings left out."""
    tree = ast.parse(source)
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in TASKS
            and id(node) not in docs]


def test_task_names_are_written_only_in_the_task_table():
    files = [ROOT / "app.py", *(ROOT / "app_pages").rglob("*.py"), *(ROOT / "components").rglob("*.py")]
    found = [f"{path.relative_to(ROOT)}:{line}: '{name}'" for path in files if path != TASK_TABLE
             for line, name in task_literals(path.read_text(encoding="utf-8"))]
    assert not found, "use the constants of components.core.tasks:\n" + "\n".join(found)


def test_the_task_literal_check_finds_a_built_violation_and_spares_docstrings():
    source = '"""Runs image-classification."""\ndef f():\n    """ocr"""\n    return "ocr", OCR\n'
    assert task_literals(source) == [(4, "ocr")]


def test_feature_lists_are_spec_fields():
    assert tasks_with("classifier") == ("image-classification", "sentiment-analysis", "text-classification")
    assert set(tasks_with("attention_view")) == {"sentence-similarity", "sentiment-analysis", "text-classification",
                                                 "zero-shot-classification", "language-identification"}
    assert tasks_with("adapt") == ("image-classification", "text-classification", "audio-classification")
    assert [TASKS[t].adapt.batch for t in tasks_with("adapt")] == [16, 32, 4]
    assert TASKS["audio-classification"].input_kind == "audio"
    assert playground_tasks("vision") == {"image-classification": "image-classification", "ocr": "ocr"}
    assert playground_tasks("text") == {"similarity": "sentence-similarity", "zero-shot": "zero-shot-classification",
                                        "language": "language-identification", "sentiment": "sentiment-analysis"}
    assert all(TASKS[name].name == name for name in TASKS)


def test_the_face_lists_every_runtime_in_a_fresh_process():
    """Regression: ``runtime_names`` read the runtime table before anything had imported the ONNX runtimes, so a
    link or lesson asking for `onnx` was refused unless another import happened to register them first."""
    code = "from components.models import runtime_names, get_runtime\nprint(','.join(runtime_names()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(done.stdout.strip().split(",")) >= {"eager", "onnx", "onnx-int8"}
