"""Why a model answered: CAMs, occlusion, integrated gradients, attention, stress tests; `python -m components.explain`
and `python -m components.attention`.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "AttentionMaps": "attention",
    "CAM_METHODS": "image",
    "Explanation": "api",
    "METHODS": "api",
    "NoAttention": "attention",
    "STRENGTHS": "stress",
    "TASKS": "attention",
    "answers": "stress",
    "attention_heatmap": "attention_charts",
    "attention_main": "attention:main",
    "attention_maps": "attention",
    "check_model": "attention",
    "eager_reason": "api",
    "explain": "api",
    "get_perturbation": "stress",
    "head_entropy": "attention",
    "head_entropy_grid": "attention_charts",
    "main": "api:main",
    "perturb": "stress",
    "perturbations_for": "stress",
    "robustness_curve": "stress",
    "runnable_method": "api",
    "sanity_check": "api",
    "whisper_words": "speech",
})
