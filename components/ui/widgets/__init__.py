"""Input widgets, the model picker, formatting and charts with their text alternative."""
