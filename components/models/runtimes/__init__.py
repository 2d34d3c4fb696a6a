"""Runtimes: how a loaded model's forward pass runs (eager, ONNX Runtime fp32 / int8), and agreement with eager."""
