"""reportgen: trustworthy, sliced, fairness-aware evaluation reports for model predictions."""

from reportgen.errors import ConfigError, InputError, ReportgenError
from reportgen.evaluation import Evaluation, evaluate, evaluate_config
from reportgen.version import __version__

__all__ = ["ConfigError", "Evaluation", "InputError", "ReportgenError", "__version__", "evaluate", "evaluate_config"]
