"""Sets read from CSV text: the checked reader (columns, rows, limits) and the text-label and sentence-pair sets."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from components.datasets import limits
from components.datasets.containers import Dataset
from components.datasets.decoding import check_label_chars
from components.datasets.limits import DatasetError


def read_text(path: Path) -> str:
    """A bundled CSV file's text."""
    try:
        return decode_text(path.read_bytes(), path.name)
    except OSError as exc:
        raise DatasetError(f"bundled set {path} cannot be read: {exc.strerror or exc}") from None


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped), or a DatasetError naming the file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"'{name}' is not UTF-8 text (is it really a CSV file?)") from None


def read_csv(text: str, name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV with the required ``columns`` (matched case-insensitively), all non-empty."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"'{name}' is empty; expected columns {','.join(columns)}")
        found = [h.strip().lower() for h in header]
        missing = [c for c in columns if c not in found]
        if missing:
            raise DatasetError(f"'{name}' is missing column(s) {', '.join(missing)} "
                               f"(found: {', '.join(h for h in found if h) or 'none'}); "
                               f"expected columns {','.join(columns)}")
        where = {c: found.index(c) for c in columns}
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= limits.MAX_CSV_ROWS:
                raise DatasetError(f"'{name}' has more than {limits.MAX_CSV_ROWS} rows; use a smaller sample")
            record = {c: (row[i].strip() if i < len(row) else "") for c, i in where.items()}
            empty = [c for c, v in record.items() if not v]
            if empty:
                raise DatasetError(f"'{name}' line {reader.line_num}: empty {', '.join(empty)}")
            rows.append(record)
    except csv.Error as exc:
        raise DatasetError(f"'{name}' is not a readable CSV: {exc}") from None
    if not rows:
        raise DatasetError(f"'{name}' has a header but no data rows")
    return rows


def labelled_text(task: str, name: str, text: str) -> Dataset:
    """Texts with a class label each (columns text,label)."""
    rows = read_csv(text, name, ("text", "label"))
    labels = tuple(check_label_chars(r["label"], f"'{name}' data row {i + 1}") for i, r in enumerate(rows))
    return Dataset(task, name, tuple(f"row {i + 1}" for i in range(len(rows))), [r["text"] for r in rows], labels)


def sentence_pairs(task: str, name: str, text: str) -> Dataset:
    """Sentence pairs with a similarity score each (columns sentence1,sentence2,score)."""
    rows = read_csv(text, name, ("sentence1", "sentence2", "score"))
    scores = []
    for i, row in enumerate(rows):
        try:
            scores.append(float(row["score"]))
        except ValueError:
            raise DatasetError(f"'{name}' data row {i + 1}: score must be a number, "
                               f"got '{row['score']}'") from None
    return Dataset(task, name, tuple(f"pair {i + 1}" for i in range(len(rows))),
                   [(r["sentence1"], r["sentence2"]) for r in rows], tuple(scores))


# Per evaluation format (components.core.tasks): how a CSV upload or bundled file becomes a Dataset.
PARSERS = {"text-label": labelled_text, "sentence-pairs": sentence_pairs}
