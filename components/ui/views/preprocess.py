"""Show the resized, cropped and normalised tensor a vision model actually saw."""
from __future__ import annotations

import streamlit as st
from PIL import Image

from components.models import ImageTransformExtras
from components.ui.views.run import CardData
from components.viz import tensor_to_image


def show_model_input(card: CardData, image: Image.Image) -> None:
    """An expander with the model's input image (models with timm-style transforms)."""
    extras = card.model_extras
    if not isinstance(extras, ImageTransformExtras) or extras.data_config is None:
        return
    config, transform = extras.data_config, extras.transform
    with st.expander("What the model saw (preprocessing)"):
        st.image(tensor_to_image(transform(image), config["mean"], config["std"]), width=224,
                 caption="The model's input tensor, shown as an image")
        st.caption(f"Resized with {config['interpolation']} interpolation, centre crop "
                   f"{config['crop_pct']:.3f}, {config['input_size'][1]}×{config['input_size'][2]} px, "
                   f"normalised with mean {config['mean']} and std {config['std']}.")
