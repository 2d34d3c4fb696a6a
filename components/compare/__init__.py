"""The Compare engine: benchmark rows, evaluation, executors, the history store, resumable runs, Compare's charts;
`python -m components.bench` is its CLI.

The face of the package: the names other packages and the pages use, each imported from its module on first use (so
importing the face costs nothing)."""
from components import lazy_face

__getattr__, __dir__ = lazy_face(__name__, {
    "ADDRESS_ENV": "executors.ray_executor",
    "BenchmarkConfig": "benchmark",
    "EXECUTORS": "executors",
    "ExecutorError": "executors.base",
    "HistoryStore": "store",
    "RUNNING": "store",
    "ResumeError": "runs",
    "RunPlan": "runs",
    "accuracy_vs_latency": "charts",
    "best_two": "charts",
    "compare_figures": "charts",
    "dataset_ref": "runs",
    "done_keys": "runs",
    "evaluate": "evaluation",
    "in_use": "runs",
    "int8_slower_notes": "charts",
    "interval_text": "charts",
    "label": "charts",
    "latency_distribution": "charts",
    "load_resumable": "runs",
    "main": "cli:main",
    "make_executor": "executors",
    "memory_and_size": "charts",
    "owner": "runs",
    "page_ray_off": "executors.ray_executor",
    "paired_comparison": "charts",
    "published_vs_measured": "charts",
    "ranking_note": "charts",
    "results_table": "charts",
    "run_recorded": "runs",
    "runtime_comparison": "charts",
    "table_formats": "charts",
    "throughput_by_batch": "charts",
    "to_csv": "store",
    "to_json": "store",
})
