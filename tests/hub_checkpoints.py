"""Tiny random checkpoints in the real Hub on-disk formats, named like the catalog's Hub repos.

No network: each checkpoint is built here from a small config (2 layers, width 32, a few dozen tokens) and
written as the Hub repo holds it (``config.json``, ``model.safetensors``, the tokenizer files, and the image
processor's / feature extractor's ``preprocessor_config.json`` saved on their own, as in the real repos). timm
and torchvision names fix the architecture, so those keep their real shapes (a few MB to ~90 MB) with random weights.

Every checkpoint's classifier is biased towards a known answer where it has one (ImageNet index
``TARGET_INDEX``, the label ``POSITIVE``), so a test can tell the file's weights from a random init.

Each one is placed twice:
- (a) the *models folder* (``MODEL_EXPLORER_MODELS_DIR`` / the sidebar folder): ``org__name/`` folders as
  ``hf download org/name --local-dir`` leaves them; timm the same (``timm__<name>/`` with timm's
  ``config.json`` + ``model.safetensors``, as on the Hub); torchvision: the checkpoint file under the name
  in its weights URL (``efficientnet_b0_rwightman-7f5810bc.pth``), directly in the folder;
- (b) the *cache*: a Hugging Face cache (``HF_HUB_CACHE``: ``models--org--name/blobs`` +
  ``snapshots/<rev>/`` symlinks + ``refs/main``); torchvision: the torch hub cache
  (``$TORCH_HOME/hub/checkpoints/<file name from the URL>``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REVISION = "0123456789abcdef0123456789abcdef01234567"
TARGET_INDEX = 948  # ImageNet "Granny Smith": a random init would not put it first
CTC_LETTER = "E"  # the tiny wav2vec2 hears only this letter
WHISPER_WORD = "cat"  # the tiny Whisper says only this word (until its max_length)
WORDS = ("the a an is are was on in of and to it this that cat dog kitten sofa couch sat sleeping napping "
         "resting furniture stock market fell sharply morning love hate happy terrible day wonderful photo "
         "weather nice today children playing outside quick brown fox jumps over lazy good bad").split()


@dataclass(frozen=True)
class Checkpoint:
    model_id: str  # catalog id
    repo: str  # Hub repo id; for torchvision the checkpoint's file name
    engine: str  # timm / torchvision / transformers
    task: str  # the playground / bench task it is tested on
    build: Callable[[Path], None] = field(repr=False, compare=False)


@dataclass
class HubLayout:
    root: Path
    checkpoints: dict[str, Checkpoint]

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def hf_cache(self) -> Path:
        return self.root / "hf_cache"

    @property
    def torch_home(self) -> Path:
        return self.root / "torch_home"

    def folder(self, model_id: str) -> Path:
        """Where placement (a) holds ``model_id`` (a folder; for torchvision the file)."""
        ckpt = self.checkpoints[model_id]
        if ckpt.engine == "torchvision":
            return self.models_dir / ckpt.repo
        return self.models_dir / ckpt.repo.replace("/", "__")

    def folder_env(self) -> dict[str, str]:
        """Environment for placement (a) only: caches point at empty folders."""
        return {"MODEL_EXPLORER_MODELS_DIR": str(self.models_dir), "HF_HUB_CACHE": str(self.root / "empty_hf"),
                "TORCH_HOME": str(self.root / "empty_torch")}

    def cache_env(self) -> dict[str, str]:
        """Environment for placement (b) only: no models folder, the caches hold the checkpoints."""
        return {"MODEL_EXPLORER_MODELS_DIR": "", "HF_HUB_CACHE": str(self.hf_cache),
                "TORCH_HOME": str(self.torch_home)}


# ---------------------------------------------------------------- placement

def _place_in_hf_cache(cache: Path, repo: str, folder: Path) -> Path:
    """Copy ``folder`` into a Hugging Face cache the way ``hf download`` fills it: blobs + symlinks."""
    base = cache / f"models--{repo.replace('/', '--')}"
    snapshot = base / "snapshots" / REVISION
    for source in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        blob = base / "blobs" / digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            try:
                os.link(source, blob)
            except OSError:
                shutil.copyfile(source, blob)
        link = snapshot / source.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (base / "refs").mkdir(parents=True, exist_ok=True)
    (base / "refs" / "main").write_text(REVISION)
    return snapshot


def build_all(root: Path, model_ids: list[str] | None = None) -> HubLayout:
    """Build every checkpoint (or those named) under ``root`` in both placements."""
    layout = HubLayout(root, {k: v for k, v in CHECKPOINTS.items() if model_ids is None or k in model_ids})
    layout.models_dir.mkdir(parents=True, exist_ok=True)
    hub_checkpoints = layout.torch_home / "hub" / "checkpoints"
    hub_checkpoints.mkdir(parents=True, exist_ok=True)
    for ckpt in layout.checkpoints.values():
        target = layout.folder(ckpt.model_id)
        if ckpt.engine == "torchvision":
            ckpt.build(target)
            os.link(target, hub_checkpoints / ckpt.repo)
        else:
            target.mkdir(parents=True)
            ckpt.build(target)
            _place_in_hf_cache(layout.hf_cache, ckpt.repo, target)
    return layout


def copy_incomplete(layout: HubLayout, model_id: str, dest_root: Path, *, drop: tuple[str, ...] = (),
                    truncate: str | None = None) -> Path:
    """A copy of ``model_id``'s folder under ``dest_root`` without ``drop`` files and/or with ``truncate`` cut."""
    source = layout.folder(model_id)
    target = dest_root / source.name
    dest_root.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        shutil.copyfile(source, target)
    else:
        shutil.copytree(source, target)
        for name in drop:
            (target / name).unlink()
    if truncate is not None:
        path = target / truncate if target.is_dir() else target
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return target


# ---------------------------------------------------------------- builders

def _seed() -> None:
    import torch

    torch.manual_seed(0)


def _wordpiece_vocab(extra: tuple[str, ...] = ()) -> dict[str, int]:
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *extra, *WORDS, *"abcdefghijklmnopqrstuvwxyz.,!?"]
    tokens += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def _bert_tokenizer(extra: tuple[str, ...] = ()):
    from transformers import BertTokenizer

    return BertTokenizer(vocab=_wordpiece_vocab(extra), do_lower_case=True)


def _imagenet_id2label() -> dict[int, str]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return {i: info.index_to_description(i) for i in range(1000)}


def _timm(name: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        import timm
        import torch
        from timm.models import save_for_hf

        _seed()
        model = timm.create_model(name, pretrained=False)
        with torch.no_grad():
            model.get_classifier().bias[TARGET_INDEX] += 30.0
        save_for_hf(model, str(folder), safe_serialization=True)  # config.json + model.safetensors, as on the Hub

    return build


def _torchvision(name: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        import torch
        from torchvision import models

        _seed()
        model = models.get_model(name, weights=None)
        last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.bias[TARGET_INDEX] += 30.0
        torch.save(model.state_dict(), path)

    return build


def _vit(folder: Path) -> None:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    _seed()
    id2label = _imagenet_id2label()
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=8, id2label=id2label,
                       label2id={v: k for k, v in id2label.items()})
    model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.bias[TARGET_INDEX] += 30.0
    model.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)


def _sentence_encoder(folder: Path) -> None:
    from transformers import BertConfig, BertModel

    _seed()
    tokenizer = _bert_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _distilbert_sst2(folder: Path) -> None:
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    _seed()
    tokenizer = _bert_tokenizer()
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=128, id2label={0: "NEGATIVE", 1: "POSITIVE"},
                              label2id={"NEGATIVE": 0, "POSITIVE": 1})
    model = DistilBertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([-5.0, 5.0]))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _wav2vec2(folder: Path) -> None:
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC

    _seed()
    chars = ["<pad>", "<s>", "</s>", "<unk>", "|", *"ETAONIHSRDLUMWCFGYPBVKJXQZ'"]  # as facebook/wav2vec2-base-960h
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({c: i for i, c in enumerate(chars)}), encoding="utf-8")
    tokenizer = Wav2Vec2CTCTokenizer(str(vocab), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
    config = Wav2Vec2Config(vocab_size=len(chars), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(32, 32, 32), conv_stride=(5, 4, 4),
                            conv_kernel=(10, 4, 4), num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            pad_token_id=0, ctc_loss_reduction="sum")
    model = Wav2Vec2ForCTC(config)
    with torch.no_grad():  # every frame says "E": greedy CTC decoding of the file's weights gives "E"
        model.lm_head.bias[chars.index(CTC_LETTER)] += 30.0
    model.save_pretrained(folder)
    extractor.save_pretrained(folder)  # preprocessor_config.json, as in the Hub repo
    tokenizer.save_pretrained(folder)


def _byte_bpe(folder: Path, specials: list[str], vocab_size: int = 400) -> Path:
    """A byte-level BPE (GPT-2 / CLIP / Whisper style) trained on a few sentences; returns tokenizer.json."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    corpus = [" ".join(WORDS), "the quick brown fox jumps over the lazy dog", "a photo of a cat",
              "a photo of a dog", "a cup of coffee", "the weather is nice today"]
    bpe.train_from_iterator(corpus, vocab_size=vocab_size, min_frequency=1, special_tokens=specials)
    path = folder / "_bpe_tokenizer.json"
    bpe.save(str(path))
    return path


def _whisper(folder: Path) -> None:
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    _seed()
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]
    bpe = _byte_bpe(folder, [])
    # as in openai/whisper-*: the specials follow the text tokens, <|notimestamps|> last (the ASR decoder reads
    # every id after it as a timestamp)
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(bpe), unk_token="<|endoftext|>",
                                     bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                     pad_token="<|endoftext|>", additional_special_tokens=specials[1:])
    bpe.unlink()
    assert [tokenizer.convert_tokens_to_ids(t) for t in specials] == list(range(len(tokenizer) - len(specials),
                                                                                len(tokenizer)))
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in specials}
    config = WhisperConfig(vocab_size=len(tokenizer), num_mel_bins=80, d_model=32, encoder_layers=2,
                           decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=64, decoder_ffn_dim=64, max_source_positions=1500,
                           max_target_positions=64, pad_token_id=ids["<|endoftext|>"],
                           bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
                           decoder_start_token_id=ids["<|startoftranscript|>"], suppress_tokens=[],
                           begin_suppress_tokens=[ids["<|endoftext|>"]])
    model = WhisperForConditionalGeneration(config)
    word = tokenizer.convert_tokens_to_ids("\u0120" + WHISPER_WORD)  # byte-level BPE: "Ġcat" is " cat"
    assert word != tokenizer.unk_token_id
    with torch.no_grad():  # the decoder's last norm outputs a constant v, and " cat"'s embedding is v: it always wins
        norm = model.model.decoder.layer_norm
        norm.weight.zero_()
        norm.bias.fill_(1.0)
        model.model.decoder.embed_tokens.weight[word] = 1.0
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"], max_new_tokens=12,
        is_multilingual=True, lang_to_id={"<|en|>": ids["<|en|>"]},
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], prev_sot_token_id=ids["<|startofprev|>"],
        suppress_tokens=[], begin_suppress_tokens=[ids["<|endoftext|>"]])
    model.save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)  # preprocessor_config.json
    tokenizer.save_pretrained(folder)


def _clip(folder: Path) -> None:
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPTextConfig,
        CLIPTokenizerFast,
        CLIPVisionConfig,
    )

    _seed()
    bpe = _byte_bpe(folder, ["<|startoftext|>", "<|endoftext|>"])
    tokenizer = CLIPTokenizerFast(tokenizer_file=str(bpe), bos_token="<|startoftext|>",
                                  eos_token="<|endoftext|>", pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    bpe.unlink()
    text = CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, projection_dim=32, max_position_embeddings=77,
                          bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                          pad_token_id=tokenizer.pad_token_id)
    vision = CLIPVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                              projection_dim=32, image_size=32, patch_size=8)
    CLIPModel(CLIPConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                         projection_dim=32)).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _blip(folder: Path) -> None:
    from transformers import (
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipTextConfig,
        BlipVisionConfig,
    )

    _seed()
    tokenizer = _bert_tokenizer(extra=("[DEC]",))
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    text = BlipTextConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, encoder_hidden_size=32, max_position_embeddings=64,
                          bos_token_id=tokenizer.bos_token_id, pad_token_id=tokenizer.pad_token_id,
                          sep_token_id=tokenizer.sep_token_id, eos_token_id=tokenizer.sep_token_id)
    vision = BlipVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                              image_size=32, patch_size=8)
    BlipForConditionalGeneration(BlipConfig(text_config=text.to_dict(), vision_config=vision.to_dict(),
                                            projection_dim=32)).save_pretrained(folder)
    BlipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


CHECKPOINTS: dict[str, Checkpoint] = {c.model_id: c for c in (
    Checkpoint("mobilenet_v2", "timm/mobilenetv2_100.ra_in1k", "timm", "image-classification",
               _timm("mobilenetv2_100.ra_in1k")),
    Checkpoint("deit_small", "timm/deit_small_patch16_224.fb_in1k", "timm", "image-classification",
               _timm("deit_small_patch16_224.fb_in1k")),
    Checkpoint("efficientnet_b0", "efficientnet_b0_rwightman-7f5810bc.pth", "torchvision",
               "image-classification", _torchvision("efficientnet_b0")),
    Checkpoint("vit_base_patch16_224", "google/vit-base-patch16-224", "transformers", "image-classification",
               _vit),
    Checkpoint("all_minilm_l12_v2", "sentence-transformers/all-MiniLM-L12-v2", "transformers",
               "sentence-similarity", _sentence_encoder),
    Checkpoint("distilbert_sst2", "distilbert/distilbert-base-uncased-finetuned-sst-2-english", "transformers",
               "sentiment-analysis", _distilbert_sst2),
    Checkpoint("wav2vec2_base_960h", "facebook/wav2vec2-base-960h", "transformers", "speech-recognition",
               _wav2vec2),
    Checkpoint("whisper_tiny", "openai/whisper-tiny", "transformers", "speech-recognition", _whisper),
    Checkpoint("clip_vit_b_32", "openai/clip-vit-base-patch32", "transformers",
               "zero-shot-image-classification", _clip),
    Checkpoint("blip_captioning_base", "Salesforce/blip-image-captioning-base", "transformers",
               "image-captioning", _blip),
)}


if __name__ == "__main__":  # python tests/hub_checkpoints.py OUT_DIR [ids…]: build by hand to inspect
    import sys

    built = build_all(Path(sys.argv[1]), sys.argv[2:] or None)
    for model_id in built.checkpoints:
        print(model_id, built.folder(model_id))
