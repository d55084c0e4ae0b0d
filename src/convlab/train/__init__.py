"""Training: the loop behind ``convlab train`` (:func:`fit`, returning a :class:`History`), evaluation,
and model files that hold the weights and the architecture together."""

from .evaluate import evaluate, predict
from .fit import Step, fit
from .history import History
from .model_files import SavedModel, load_model, read_model, save_model
from .recipe import Recipe

__all__ = [
    "History",
    "Recipe",
    "SavedModel",
    "Step",
    "evaluate",
    "fit",
    "load_model",
    "predict",
    "read_model",
    "save_model",
]
