"""Guided lessons kept as data: one YAML file per lesson in lessons/, loaded and checked here.

A lesson is a few steps; each step opens a page in a preset state (the same query params a shared link
carries), says what to look at in two or three sentences, and asks a predict-then-reveal question. The
page and its params are checked by a function the caller hands in (``components.ui.shell.share.problems``), so
a lesson cannot point at a page or a setting the app does not have.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
LESSON_FIELDS = {"title", "summary", "order", "steps"}
STEP_FIELDS = {"title", "page", "params", "text", "question", "choices", "answer", "reveal"}
MAX_TEXT = 600  # characters: "two or three sentences"
Check = Callable[[str, Mapping[str, str]], list[str]]


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file, the step and the field."""


@dataclass(frozen=True)
class Step:
    title: str
    page: str
    params: dict[str, str]  # query params, as in a shared link
    text: str
    question: str
    choices: tuple[str, ...]
    answer: str
    reveal: str


@dataclass(frozen=True)
class Lesson:
    id: str  # the file name without .yaml
    title: str
    summary: str
    order: int
    steps: tuple[Step, ...]


def url_value(value: Any) -> str:
    """A YAML scalar or list as query-param text: lists comma-separated, booleans 1 / 0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(url_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _text(raw: Mapping[str, Any], field: str, where: str, limit: int = MAX_TEXT) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise LessonError(f"{where}: '{field}' must be non-empty text")
    if len(value) > limit:
        raise LessonError(f"{where}: '{field}' is {len(value)} characters (at most {limit}: keep it short)")
    return " ".join(value.split())


def _fields(raw: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: expected a mapping of fields")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise LessonError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    return raw


def _step(raw: Any, where: str, check: Check) -> Step:
    raw = _fields(raw, STEP_FIELDS, where)
    page = raw.get("page")
    if not isinstance(page, str):
        raise LessonError(f"{where}: 'page' must name a page")
    params_raw = raw.get("params") or {}
    if not isinstance(params_raw, dict):
        raise LessonError(f"{where}: 'params' must map setting names to values")
    params = {str(name): url_value(value) for name, value in params_raw.items()}
    found = check(page, params)
    if found:
        raise LessonError(f"{where}: {'; '.join(found)}")
    choices = raw.get("choices")
    if not isinstance(choices, list) or not 2 <= len(choices) <= 4 or not all(isinstance(c, str) for c in choices):
        raise LessonError(f"{where}: 'choices' must be a list of 2 to 4 texts")
    answer = _text(raw, "answer", where, 200)
    if answer not in choices:
        raise LessonError(f"{where}: 'answer' must be one of the choices, word for word")
    return Step(title=_text(raw, "title", where, 80), page=page, params=params, text=_text(raw, "text", where),
                question=_text(raw, "question", where, 200), choices=tuple(choices), answer=answer,
                reveal=_text(raw, "reveal", where))


def load_lesson(path: Path, check: Check) -> Lesson:
    """One lesson file, checked: its fields, every step's page and params (with ``check``), its question."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", path.stem):
        raise LessonError(f"{path.name}: name lesson files in lower case, digits and dashes (it is the lesson's id)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LessonError(f"{path.name}: cannot be read: {exc}") from exc
    raw = _fields(raw, LESSON_FIELDS, path.name)
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError(f"{path.name}: 'steps' must be a non-empty list")
    order = raw.get("order", 99)
    if not isinstance(order, int):
        raise LessonError(f"{path.name}: 'order' must be a whole number")
    return Lesson(id=path.stem, title=_text(raw, "title", path.name, 80), summary=_text(raw, "summary", path.name),
                  order=order, steps=tuple(_step(s, f"{path.name}, step {i}", check) for i, s in enumerate(steps, 1)))


def load_lessons(check: Check, folder: Path = LESSONS_DIR) -> tuple[list[Lesson], list[str]]:
    """Every lesson in ``folder`` in their order, and one message per file that cannot be used."""
    lessons, errors = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            lessons.append(load_lesson(path, check))
        except LessonError as exc:
            errors.append(str(exc))
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.id)), errors
