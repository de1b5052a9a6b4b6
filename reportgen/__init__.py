"""reportgen: trustworthy, sliced, fairness-aware evaluation reports for model predictions.

The evaluation API is imported on first use (`evaluate`, `Evaluation`, `evaluate_config`), so that the command
line and `import reportgen` start without numpy, pandas, scipy or the renderers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportgen.errors import ConfigError, InputError, ReportgenError
from reportgen.version import __version__

if TYPE_CHECKING:
    from reportgen.evaluation import Evaluation, evaluate, evaluate_config

__all__ = ["ConfigError", "Evaluation", "InputError", "ReportgenError", "__version__", "evaluate", "evaluate_config"]
_EVALUATION = ("Evaluation", "evaluate", "evaluate_config")


def __getattr__(name: str) -> Any:
    if name in _EVALUATION:
        from reportgen import evaluation

        return getattr(evaluation, name)
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")
