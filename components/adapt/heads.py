"""Heads trained on frozen features, and how they are scored: the split, logistic regression, a
small torch head trained by gradient descent (with early stopping), metrics, the few-shot curve and
the 2-D embedding map. Pure computation on arrays; no models, no Streamlit.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from components.core import mean_interval

TEST_FRACTION = 0.3
FEWSHOT_DRAWS = 5
FINETUNE_MAX_EPOCHS = 60
FINETUNE_PATIENCE = 6

EpochProgress = Callable[[int, int, float, float], None]  # epoch, max_epochs, train loss, val loss


def split(labels: Sequence[str], seed: int, test_fraction: float = TEST_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train / test indices: about ``test_fraction`` of each class held out, at least one
    sample of every class on each side."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    train, test = [], []
    for label in sorted(set(labels.tolist())):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = min(max(1, round(len(members) * test_fraction)), len(members) - 1)
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return np.sort(np.array(train)), np.sort(np.array(test))


def logistic_head(seed: int = 0) -> Any:
    """Standardised features -> multinomial logistic regression (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    confusion: list[list[int]]  # rows: true class, columns: predicted, in ``classes`` order
    per_class_accuracy: dict[str, float]


def score(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> Scores:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    matrix = confusion_matrix(truth, predicted, labels=list(classes))
    per_class = {c: float(matrix[i, i] / max(matrix[i].sum(), 1)) for i, c in enumerate(classes)}
    return Scores(float(accuracy_score(truth, predicted)),
                  float(f1_score(truth, predicted, labels=list(classes), average="macro", zero_division=0)),
                  matrix.tolist(), per_class)


def fewshot_shots(labels: Sequence[str], requested: Sequence[int] | None = None) -> list[int]:
    """k values the train split allows: 1, 2, 4, 8, … (or ``requested``) up to the smallest class."""
    counts = [list(labels).count(c) for c in set(labels)]
    most = min(counts)
    wanted = requested or [2**i for i in range(12)]
    return sorted({k for k in wanted if 1 <= k <= most})


def fewshot_curve(labels: Sequence[str], train: np.ndarray, test: np.ndarray, shots: Sequence[int],
                  fit_predict: Callable[[np.ndarray], np.ndarray], seed: int,
                  draws: int = FEWSHOT_DRAWS) -> list[dict[str, float]]:
    """Held-out accuracy with k training examples per class, mean, std and the mean's 95% t-interval
    over random draws (the interval reflects which examples were drawn, not the test set's size).

    ``fit_predict(chosen)`` trains a fresh head on the samples ``chosen`` and predicts ``test``.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = sorted(set(labels[train].tolist()))
    curve = []
    for k in shots:
        accuracies = []
        for _ in range(draws):
            chosen = np.concatenate([rng.choice(train[labels[train] == c], k, replace=False) for c in classes])
            accuracies.append(float((fit_predict(chosen) == labels[test]).mean()))
        curve.append({"shots": int(k), "accuracy_mean": float(np.mean(accuracies)),
                      "accuracy_std": float(np.std(accuracies)), "accuracy_ci": mean_interval(accuracies)})
    return curve


class TorchHead:
    """A two-layer head (Linear -> ReLU -> Dropout -> Linear on standardised features) trained with
    AdamW on frozen features; sklearn-like ``predict`` / ``predict_proba`` like the logistic head."""

    def __init__(self, classes: Sequence[str], hidden: int = 256, seed: int = 0) -> None:
        self.classes_ = np.asarray(list(classes))
        self.hidden = hidden
        self.seed = seed
        self.module: Any = None
        self.mean = self.std = np.zeros(0, dtype=np.float32)
        self.epochs_run = 0

    def fit(self, x: np.ndarray, y: Sequence[str], progress: EpochProgress | None = None,
            max_epochs: int = FINETUNE_MAX_EPOCHS) -> TorchHead:
        import torch

        torch.manual_seed(self.seed)
        index = {c: i for i, c in enumerate(self.classes_.tolist())}
        target = torch.tensor([index[v] for v in y])
        fit_idx, val_idx = split(list(y), self.seed, 0.2) if min(np.unique(y, return_counts=True)[1]) >= 2 \
            else (np.arange(len(y)), np.arange(len(y)))
        x = np.asarray(x, dtype=np.float32)
        self.mean, self.std = x[fit_idx].mean(0), np.maximum(x[fit_idx].std(0), 1e-6)
        features = torch.from_numpy(self._standardised(x))
        self.module = torch.nn.Sequential(torch.nn.Linear(x.shape[1], self.hidden), torch.nn.ReLU(),
                                          torch.nn.Dropout(0.2), torch.nn.Linear(self.hidden, len(self.classes_)))
        optimiser = torch.optim.AdamW(self.module.parameters(), lr=1e-3, weight_decay=1e-2)
        loss_fn = torch.nn.CrossEntropyLoss()
        best, best_state, waited = float("inf"), None, 0
        generator = torch.Generator().manual_seed(self.seed)
        for epoch in range(1, max_epochs + 1):
            self.module.train()
            total = 0.0
            order = torch.from_numpy(fit_idx)[torch.randperm(len(fit_idx), generator=generator)]
            for batch in order.split(32):
                optimiser.zero_grad()
                loss = loss_fn(self.module(features[batch]), target[batch])
                loss.backward()
                optimiser.step()
                total += loss.item() * len(batch)
            self.module.eval()
            with torch.no_grad():
                val_loss = float(loss_fn(self.module(features[val_idx]), target[val_idx]))
            self.epochs_run = epoch
            if progress:
                progress(epoch, max_epochs, total / len(fit_idx), val_loss)
            if val_loss < best - 1e-4:
                best, waited = val_loss, 0
                best_state = {k: v.clone() for k, v in self.module.state_dict().items()}
            else:
                waited += 1
                if waited >= FINETUNE_PATIENCE:
                    break
        if best_state is not None:
            self.module.load_state_dict(best_state)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            logits = self.module(torch.from_numpy(self._standardised(x)))
        return logits.softmax(-1).numpy()

    def _standardised(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(1)]


def embedding_map(features: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """(samples, 2) coordinates: ``"pca"`` or ``"tsne"`` (scikit-learn)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(features)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(scaled)
    if method == "tsne":
        perplexity = float(min(30, max(2, (len(features) - 1) // 3)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(scaled)
    raise ValueError(f"unknown embedding map method '{method}' (pca or tsne)")


def tfidf_head(seed: int = 0) -> Any:
    """The no-deep-learning text reference: word and word-pair TF-IDF -> logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                         LogisticRegression(max_iter=2000, random_state=seed))
