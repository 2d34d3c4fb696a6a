"""Thin adapters per engine: the only place where engine APIs (torch, timm, transformers, …) appear."""
