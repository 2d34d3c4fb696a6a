"""Reusable Streamlit widgets: model picker, input widgets, result cards, shared state."""
