"""Sections of pages: result cards, Compare's run controls, Explain, stress, attention, Adapt, catalog, report
buttons."""
