"""The course's optimizers exactly as course 7 writes them, slips included, each with a switch to fix its slip.

``minigrad.optim`` is torch's algorithms to the last digit; this package is the *course's*
formulas, written the way a student would: a plain class per optimizer, hyperparameters named
after the course's symbols (``lr`` for α or η, ``mu`` for μ, ``tau`` for τ, ``gamma``, ``rho``,
``beta1``, ``beta2``, ``eps`` for ε, ``eta_plus``/``eta_minus`` for η+/η-, ``u0`` for U_0), a
``step()`` of about ten lines that updates the weights in place under ``no_grad``, and
``zero_grad()``. They are not ``torch.optim.Optimizer`` subclasses: no param groups, no state
dicts, no weight decay, nothing the course does not have.

Every switch defaults to the course's text; the other value is the fix (or torch's choice):

========== ============================== ============================================================
class      switch (course default)        the other value
========== ============================== ============================================================
Momentum   ``dampen_first_step=True``     ``False``: torch's ``b_1 = g_1`` (first step 1/(1-τ) larger)
Nesterov   ``lookahead_without_lr=True``  ``False``: look ahead to ``w - α·μ·m`` (equal to torch after
                                          the change of variables ``p = w - α·μ·m``)
Rprop      ``u0=0.0``                     ``u0 > 0`` (torch: ``lr``); with U_0 = 0 nothing moves
AdaGrad    ``eps_inside_sqrt=True``       ``False``: ``sqrt(Sum) + ε``, torch's Adagrad
RMSprop    ``eps_inside_sqrt=True``       ``False``: ``sqrt(Sum) + ε``, torch's RMSprop
Adam       ``eps_inside_sqrt=True``       ``False``: ``sqrt(r̂) + ε``, torch's Adam
NAdam      ``drop_grad_term=True``        ``False``: ``(1-β1)·∇L/(1-β1^t)`` (still not torch: μ schedule)
AdaDelta   ``plus_sign=True``             ``False``: ``w - Δw``, torch's Adadelta (lr = 1)
========== ============================== ============================================================

One module per optimizer family, next to ``minigrad/optim/<name>.py``, so that the course's
version and torch's can be opened side by side. ``examples/course_vs_torch.py`` runs them against
``minigrad.optim`` and prints every difference with numbers; ``docs/optimizers.md`` explains them.
"""

from ._base import CourseOptimizer
from .adadelta import AdaDelta
from .adagrad import AdaGrad
from .adam import Adam
from .nadam import NAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD, Momentum, Nesterov

__all__ = ["AdaDelta", "AdaGrad", "Adam", "CourseOptimizer", "Momentum", "NAdam", "Nesterov", "RMSprop", "Rprop",
           "SGD"]
