"""Figures shared by pages: the colour-blind-safe palette, playground charts, label placement, overlays.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "BLUE": "charts",
    "GREY": "charts",
    "ORANGE": "charts",
    "PALETTE": "charts",
    "PURPLE": "charts",
    "VERMILLION": "charts",
    "chart_rows": "charts",
    "chart_summary": "charts",
    "colour_blind_safe": "charts",
    "draw_ocr_boxes": "overlays",
    "heatmap_overlay": "overlays",
    "label_positions": "labels",
    "mel_spectrogram": "charts",
    "ranked_bars": "charts",
    "robustness_curves": "charts",
    "similarity_heatmap": "charts",
    "tensor_to_image": "overlays",
    "visible_labels": "labels",
    "waveform": "charts",
    "waveform_words": "charts",
})
