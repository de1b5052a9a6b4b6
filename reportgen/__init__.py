"""reportgen: trustworthy, sliced, fairness-aware evaluation reports for model predictions."""

from importlib.metadata import PackageNotFoundError, version

from reportgen.errors import ConfigError, InputError, ReportgenError
from reportgen.evaluation import Evaluation, evaluate, evaluate_config

try:
    __version__ = version("reportgen")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["ConfigError", "Evaluation", "InputError", "ReportgenError", "__version__", "evaluate", "evaluate_config"]
