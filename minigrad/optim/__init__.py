"""Optimizers (``torch.optim``) and learning-rate schedulers (``minigrad.optim.lr_scheduler``)."""

from . import course, lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "NAdam", "Optimizer", "RMSprop", "Rprop", "SGD", "course",
           "lr_scheduler"]


def __getattr__(name: str) -> object:
    """Only reached for a name the module lacks: the error names the torch name and points at docs/api.md."""
    from .._missing import missing_attribute

    raise missing_attribute(__name__, name)
