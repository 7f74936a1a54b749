"""Optimizers with torch.optim's names and update rules, one self-describing class each.

The defaults are torch's except: ``sgd``, ``momentum`` and ``nesterov`` start at
lr 0.01 (torch's SGD: 0.001), and ``momentum`` / ``nesterov`` are torch's SGD with momentum 0.9 (and
nesterov on) where torch's default momentum is 0.

``create("adam", lr=1e-3)`` makes one; ``opt.step(params, grads)`` updates the arrays in place.
State (``opt.state[i]``, e.g. Adam's ``exp_avg`` and ``exp_avg_sq`` for parameter ``i``) is
created on the first step, kept per position in the list, and can be read by the UI.
Hyperparameters can be changed between steps (``opt.lr = 0.01`` or ``opt.set(...)``) without
losing state.

Everything about one optimizer is in its class, in its own module (``sgd``, ``adagrad``, ``rmsprop``,
``adam``, ``adamp``), and every place that shows an optimizer (the config pane, the lab, the inspector,
the command line) takes it from there through ``OPTIMIZERS``:

- ``name``, ``hparam_specs`` (defaults, ranges, docs) and ``_check`` (combinations);
- ``_update``: the update of all weights at once (``base.Optimizer`` supplies the flat, chunked fast path);
- ``summary_for(hparams)`` / ``rule_for(hparams)``: what it does in words and in symbols for those settings
  (``summary`` / ``rule``: the same at the defaults);
- ``_explain``: one weight's last update with the numbers plugged in, computed as ``_update`` computes it;
- ``state_labels`` and ``state_in_use(hparams)``: the state it keeps and reads;
- ``letter`` (its marker without colour) and ``race_lr`` (its learning rate in the lab's races).

To add an optimizer, write its module and list its class in ``OPTIMIZERS`` below (the order is the order
of the lab's lanes and of every list); ``tests/test_optimizer_registry.py`` then runs it through every
place that shows one.
"""

from __future__ import annotations

from typing import Any

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamp import AdamP
from .base import CHUNK_BYTES, HParam, Optimizer
from .explain import UpdateExplanation, format_number
from .rmsprop import RMSprop
from .sgd import SGD, Momentum, Nesterov

__all__ = [
    "CHUNK_BYTES", "OPTIMIZERS", "HParam", "Optimizer", "UpdateExplanation", "Adagrad", "Adam", "AdamP",
    "AdamW", "Momentum", "Nesterov", "RMSprop", "SGD", "create", "defaults", "format_number", "register",
]

OPTIMIZERS: dict[str, type[Optimizer]] = {}
"""Registry: optimizer name -> class, in the order the lab and every list show them."""


def register(cls: type[Optimizer]) -> type[Optimizer]:
    """Add ``cls`` to ``OPTIMIZERS`` after checking that it describes itself fully; returns it."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"{cls!r} is not an Optimizer class")
    problems = []
    if not cls.name or cls.name in OPTIMIZERS:
        problems.append(f"name {cls.name!r} is empty or taken")
    if not (len(cls.letter) == 1 and cls.letter.isupper()):
        problems.append(f"letter {cls.letter!r} is not one capital letter")
    elif cls.letter in {other.letter for other in OPTIMIZERS.values()}:
        problems.append(f"letter {cls.letter!r} is another optimizer's")
    if not cls.hparam_specs or cls.hparam_specs[0].name != "lr":
        problems.append("hparam_specs must start with lr")
    for method in ("_update", "_explain", "_rule", "_summary"):
        if _function(cls, method) is _function(Optimizer, method):
            problems.append(f"{method} is not written")
    if problems:
        raise TypeError(f"optimizer {cls.__name__}: {'; '.join(problems)}")
    OPTIMIZERS[cls.name] = cls
    return cls


def _function(cls: type, name: str) -> Any:
    """The function behind method ``name`` of ``cls`` (a classmethod's too)."""
    method = getattr(cls, name)
    return getattr(method, "__func__", method)


for _cls in (SGD, Momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW, AdamP):
    register(_cls)


def create(name: str, **hparams: Any) -> Optimizer:
    """An optimizer by name with its defaults (torch.optim's but for the SGD family's, see above),
    overridden by ``hparams``."""
    cls = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    return cls(**hparams)


def defaults(name: str) -> dict[str, Any]:
    """The default hyperparameters of optimizer ``name``."""
    return dict(create(name).hparams)
