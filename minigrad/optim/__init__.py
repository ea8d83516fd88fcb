"""Optimizers (``torch.optim``) and learning-rate schedulers (``minigrad.optim.lr_scheduler``)."""

from . import course, lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop",
           "SGD", "course", "lr_scheduler"]


def __getattr__(name: str) -> object:
    """Only reached for a name the module lacks: the error names the torch name and points at docs/api.md."""
    from .._missing import missing_attribute

    raise missing_attribute(__name__, name)
