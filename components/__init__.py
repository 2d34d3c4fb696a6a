"""Model Explorer: everything behind the pages (catalog, availability, runners, measurement)."""
