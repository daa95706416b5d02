"""The reference MLP: layers, activations, losses, initializers, optimizers, training, data.

It is the correct baseline users compare their own backprop against, and what
``gradcheck demo`` and ``gradcheck train`` run. It imports no checking or monitoring code:
the trainer accepts any object with an ``observe(...)`` method.
"""

from gradcheck.nn.activations import ACTIVATIONS, get_activation
from gradcheck.nn.data import (
    Dataset,
    load_digits,
    load_mnist,
    make_blobs,
    make_regression,
    make_spirals,
)
from gradcheck.nn.init import INIT, get_initializer
from gradcheck.nn.layers import Activation, Dense
from gradcheck.nn.losses import LOSSES, get_loss, l2_penalty, l2_penalty_grad
from gradcheck.nn.model import MLP
from gradcheck.nn.optim import OPTIMIZERS, get_optimizer
from gradcheck.nn.problem import mlp_problem
from gradcheck.nn.training import TrainingHistory, train

History = TrainingHistory  # the name of version 1

__all__ = [
    "ACTIVATIONS",
    "INIT",
    "LOSSES",
    "MLP",
    "OPTIMIZERS",
    "Activation",
    "Dataset",
    "Dense",
    "History",
    "TrainingHistory",
    "get_activation",
    "get_initializer",
    "get_loss",
    "get_optimizer",
    "l2_penalty",
    "l2_penalty_grad",
    "load_digits",
    "load_mnist",
    "make_blobs",
    "make_regression",
    "make_spirals",
    "mlp_problem",
    "train",
]
