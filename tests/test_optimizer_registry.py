"""Every registered optimizer through every place that shows one: the config, its rule and summary for
its settings, the inspector's worked update, a race, a sweep, a loss surface and the command line's help.

A tiny optimizer registered only here (plain SGD under a new name) goes through the same tests, so a new
optimizer either works everywhere or fails here.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from click.testing import CliRunner

from tui_trainer.cli import main
from tui_trainer.experiments.config import ExperimentConfig, OptimizerConfig, with_overrides
from tui_trainer.engine import Network, optimizers
from tui_trainer.engine import inspect as insp
from tui_trainer.engine.optimizers import OPTIMIZERS, SGD, Optimizer, register
from tui_trainer.engine.surfaces import SURFACES, run_paths
from tui_trainer.experiments.lab import Race, RaceEntry, race_lr, sweep


class PlainSGD(SGD):
    """A new optimizer as a contributor would add one: here only a name, a letter and a racing rate."""

    name = "plain_sgd"
    letter = "Z"
    race_lr = 0.2


NAMES = [*OPTIMIZERS, PlainSGD.name]


@pytest.fixture(autouse=True)
def plain_sgd_registered():
    """``PlainSGD`` in the registry for the test, and out of it afterwards."""
    register(PlainSGD)
    yield
    OPTIMIZERS.pop(PlainSGD.name)


# --- settings --------------------------------------------------------------------------------------


def switches(cls: type[Optimizer]) -> list[str]:
    """The hyperparameters that turn part of an update on or off: the flags, and the numbers that some
    optimizer has off (0) by default, such as momentum and weight_decay."""
    off_somewhere = {s.name for c in OPTIMIZERS.values() for s in c.hparam_specs if s.default == 0.0}
    return [s.name for s in cls.hparam_specs
            if s.kind == "bool" or (s.kind == "float" and s.name in off_somewhere and s.name != "lr")]


def valid(cls, hp) -> bool:
    try:
        cls(**hp)
    except ValueError:
        return False
    return True


def flipped(cls, key, hp=None):
    """Switch ``key`` the other way from its value in ``hp`` (or its default): on is True or 0.3."""
    current = cls.settings(hp)[key]
    return (not current) if isinstance(current, bool) else (0.0 if current else 0.3)


def combos(name: str) -> list[dict]:
    """The optimizer's valid settings with any of its switches flipped from their defaults."""
    cls = OPTIMIZERS[name]
    keys = switches(cls)
    found = [{k: flipped(cls, k) for k in chosen}
             for n in range(len(keys) + 1) for chosen in itertools.combinations(keys, n)]
    return [hp for hp in found if valid(cls, hp)]


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    net = Network([3, 4, 2], ["tanh", "sigmoid"], seed=seed)
    X, Y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=(8, 2)).astype(float)
    return net, X, Y


def params_after(name, hp, steps=3):
    """The weights after ``steps`` updates, the first with a gradient 100 times too large (so that the
    running mean of g^2 falls afterwards, and amsgrad's maximum differs from it)."""
    net, X, Y = small_problem()
    opt = optimizers.create(name, **hp)
    for step in range(steps):
        net.loss_and_grads(X, Y, "bce")
        for g in net.grads:
            g *= 100.0 if step == 0 else 1.0
        opt.step(net.params, net.grads)
    return net.flat_params.copy()


# --- the config ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_config_accepts_it_with_any_of_its_settings(name):
    cfg = with_overrides(ExperimentConfig(), optimizer=name)
    assert cfg.optimizer.name == name and cfg.optimizer.lr == optimizers.defaults(name)["lr"]
    assert cfg.validate() == []
    for hp in combos(name):
        assert OptimizerConfig(name, hparams=hp).validate() == [], hp


# --- what it says about itself ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_it_describes_itself(name):
    cls = OPTIMIZERS[name]
    assert cls.summary == cls.summary_for() and cls.summary.endswith(".")
    assert cls.rule == cls.rule_for() and "w <-" in cls.rule
    assert set(cls.state_labels) == set(cls.state_names)
    assert set(cls.state_in_use()) <= set(cls.state_names)
    assert race_lr(name, None) == (cls.race_lr or optimizers.defaults(name)["lr"])
    assert "[" not in cls.rule + cls.summary  # shown in Textual markup
    # A setting being typed (invalid for now) describes the defaults rather than failing.
    assert cls.rule_for({"lr": "abc", "bogus": 1}) == cls.rule


@pytest.mark.parametrize("name", NAMES)
def test_the_rule_changes_with_every_setting_that_changes_the_update(name):
    cls = OPTIMIZERS[name]
    for base in combos(name):
        for key in switches(cls):
            changed = {**base, key: flipped(cls, key, base)}
            if not valid(cls, changed):
                continue
            if np.array_equal(params_after(name, base), params_after(name, changed)):
                continue  # e.g. dampening without momentum: the update is the same, and so may be the rule
            assert cls.rule_for(base) != cls.rule_for(changed), (base, key)
            assert cls.summary_for(base) != cls.summary_for(changed), (base, key)


@pytest.mark.parametrize("name, hp, shown, not_shown", [
    ("sgd", {}, ["w <- w - lr * g"], ["v <-", "weight_decay"]),
    ("sgd", {"momentum": 0.9}, ["v <- momentum * v + g", "w <- w - lr * v"], ["(g + momentum * v)"]),
    ("sgd", {"momentum": 0.9, "nesterov": True}, ["w <- w - lr * (g + momentum * v)"], []),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
     ["d = g + weight_decay * w", "v <- momentum * v + d", "(d + momentum * v)"], []),
    ("sgd", {"momentum": 0.9, "dampening": 0.5}, ["(1 - dampening) * g"], []),
    ("momentum", {"momentum": 0.0}, ["w <- w - lr * g"], ["v <-"]),
    ("adagrad", {"lr_decay": 0.1}, ["lr_t = lr / (1 + (t - 1) * lr_decay)", "lr_t * g"], []),
    ("rmsprop", {"centered": True}, ["g_avg <-", "sqrt(s - g_avg^2)"], ["v <-"]),
    ("rmsprop", {"momentum": 0.9}, ["v <- momentum * v + g / (sqrt(s) + eps)", "w <- w - lr * v"], []),
    ("adam", {"amsgrad": True}, ["v_max <- max(v_max, v)"], []),
    ("adam", {"weight_decay": 0.01}, ["d = g + weight_decay * w", "(1-b1)*d"], ["lr * weight_decay * w"]),
    ("adamw", {}, ["w <- w - lr * weight_decay * w", "(1-b1)*g"], ["d = g"]),
    ("adamw", {"weight_decay": 0.0}, ["(1-b1)*g"], ["weight_decay"]),
    ("adamp", {}, ["|cos(g, w)| < delta / sqrt(dim)"], ["weight_decay"]),
    ("adamp", {"weight_decay": 0.1, "nesterov": True}, ["weight_decay * r", "(b1*m + (1-b1)*g)"], []),
])
def test_rule_examples(name, hp, shown, not_shown):
    rule = OPTIMIZERS[name].rule_for(hp)
    assert all(text in rule for text in shown), rule
    assert not any(text in rule for text in not_shown), rule


def test_sgd_with_momentum_no_longer_says_the_learning_rate_alone_sets_the_step():
    summary = OPTIMIZERS["sgd"].summary_for({"momentum": 0.9, "nesterov": True, "weight_decay": 0.01})
    assert "alone" not in summary and "looks ahead" in summary and "Weight decay" in summary


def test_adamp_says_when_its_projection_fires_and_why_it_matches_adam_here():
    summary = OPTIMIZERS["adamp"].summary
    assert "|cos(g, w)| < delta / sqrt(dim)" in summary and "normalization layer" in summary
    assert "rarely" in summary and "steps as Adam does" in summary
    # And it does: without a normalization layer, AdamP's first steps are Adam's, bit for bit.
    assert np.array_equal(params_after("adamp", {}, steps=5), params_after("adam", {}, steps=5))


# --- the inspector ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_the_inspector_explains_every_update_with_the_new_weight(name):
    for hp in combos(name):
        net, X, Y = small_problem()
        opt = optimizers.create(name, **hp)
        cls = type(opt)
        for step in range(3):
            before = [p.copy() for p in net.params]
            net.loss_and_grads(X, Y, "bce")
            for g in net.grads:
                g *= 100.0 if step == 0 else 1.0  # then v falls, and amsgrad's v_max is not v
            grads = [g.copy() for g in net.grads]
            opt.step(net.params, net.grads)
            for i, index in ((0, (2, 1)), (1, 3), (2, (3, 0))):
                for source in (opt, opt.state_dict()):
                    exp = insp.update_explanation(source, i, index, before[i], grads[i])
                    new = float(net.params[i][index])
                    assert exp.new_value == new, (hp, step, i, exp.text)
                    assert exp.lines[-1].endswith("= " + insp.format_number(new)), exp.text
                    assert exp.rule == cls.rule_for(hp)
                    used = cls.state_in_use(hp)
                    assert exp.state == {cls.state_labels[k]: float(opt.state[i][k][index]) for k in used}
                    assert insp.state_entries(source, i, index) == exp.state


def test_adamp_explains_when_its_projection_fires():
    for delta, fires in ((0.1, False), (10.0, True)):
        net, X, Y = small_problem()
        opt = optimizers.create("adamp", delta=delta)
        before = [p.copy() for p in net.params]
        net.loss_and_grads(X, Y, "bce")
        opt.step(net.params, net.grads)
        text = insp.update_explanation(opt, 0, (0, 0), before[0], net.grads[0]).text
        assert "|cos(g, w)| over each of the 4 columns" in text
        assert ("perpendicular" in text) == fires and ("no projection" in text) != fires
        assert "never projected" in insp.update_explanation(opt, 1, 0, before[1], net.grads[1]).text


def test_an_unregistered_optimizer_is_a_message_not_a_crash():
    state = {**optimizers.create("sgd").state_dict(), "name": "lbfgs"}
    exp = insp.update_explanation(state, 0, 0, np.ones(2), np.ones(2))
    assert "not a registered optimizer" in exp.text and exp.new_value == 1.0
    assert insp.state_entries(state, 0, 0) == {}


def test_register_refuses_an_optimizer_that_does_not_describe_itself():
    class Bare(Optimizer):
        name = "bare"
        letter = "B"
        hparam_specs = SGD.hparam_specs[:1]

        def _update(self, grp, hp, t):
            grp.p -= hp["lr"] * grp.g

    with pytest.raises(TypeError, match="_explain is not written"):
        register(Bare)
    with pytest.raises(TypeError, match="taken"):
        register(SGD)
    assert "bare" not in OPTIMIZERS


# --- the lab and the command line ------------------------------------------------------------------


def lab_config() -> ExperimentConfig:
    return with_overrides(ExperimentConfig(), dataset="xor", n_samples=40, hidden=[4], activation="tanh",
                          batch_size=10, epochs=1, seed=0)


@pytest.mark.parametrize("name", NAMES)
def test_a_race_and_a_sweep_run_it(name):
    rows = Race(lab_config(), [RaceEntry(name)], epochs=1).run()
    assert rows[0]["lr"] == race_lr(name, None) and rows[0]["steps"] == 4 and math.isfinite(rows[0]["final_loss"])
    result = sweep(lab_config(), name, [1e-3, 1e-2], epochs=1)
    assert [run["lr"] for run in result.runs] == [1e-3, 1e-2]


@pytest.mark.parametrize("name", NAMES)
def test_a_loss_surface_runs_it(name):
    surf = SURFACES["rosenbrock"]
    path = run_paths(surf, {name: optimizers.create(name, lr=surf.default_lr(name))}, steps=5)[name]
    assert path.shape == (6, 2) and np.isfinite(path).all()


def test_the_lab_screens_give_every_optimizer_its_own_colour_and_letter():
    from tui_trainer.tui.screens.lab_common import lane_style, optimizer_explanation

    styles = [lane_style(name) for name in NAMES]
    letters = [letter for _, letter in styles]
    assert len(set(letters)) == len(letters) and letters[-1] == "Z"
    assert len({color for color, _ in styles[:8]}) == 8
    for name, hp in itertools.product(NAMES, [{}, {"weight_decay": 0.05}]):
        assert OPTIMIZERS[name].rule_for(hp) in optimizer_explanation(name, hp).plain


@pytest.mark.parametrize("command", ["train", "compare", "sweep", "surface"])
def test_the_command_line_help_lists_every_optimizer(command):
    out = CliRunner().invoke(main, [command, "--help"], terminal_width=400).output
    for name in NAMES:
        assert name in out, (command, name)


def test_the_lab_screens_give_a_ninth_optimizer_its_digit_key():
    """Keys 1-9 come from the registry as it is when a screen opens: the ninth optimizer (registered
    here, after the screens' modules may have loaded) has 9 on every lab screen, and the footers say so."""
    import asyncio

    from tests.conftest import wait_for
    from tests.test_app import screen_lines, small_config
    from tui_trainer.tui.app import NNTuiApp
    from tui_trainer.tui.screens.lab_matrix import MatrixScreen
    from tui_trainer.tui.screens.lab_race import RaceScreen
    from tui_trainer.tui.screens.lab_surface import SurfaceScreen
    from tui_trainer.tui.screens.lab_sweep import SweepScreen
    from tui_trainer.tui.screens.main import MainScreen
    from tui_trainer.tui.widgets.lane_list import LaneList

    assert list(OPTIMIZERS).index(PlainSGD.name) == 8

    def lane_on(screen) -> bool:
        return next(r for r in screen.query_one(LaneList).rows if r.spec.key == PlainSGD.name).enabled

    effects = {  # key: (screen, what the 9 key changed)
        "o": (RaceScreen, lambda s: not lane_on(s)),
        "f": (SurfaceScreen, lambda s: not lane_on(s)),
        "s": (SweepScreen, lambda s: s.optimizer == PlainSGD.name),
        "m": (MatrixScreen, lambda s: PlainSGD.name not in s.optimizers),
    }

    async def scenario():
        app = NNTuiApp(small_config())
        async with app.run_test(size=(120, 36)) as pilot:
            for view, (cls, changed) in effects.items():
                await wait_for(pilot, lambda: bool(app.screen.query("#lr")))
                await pilot.press(view)
                await wait_for(pilot, lambda: isinstance(app.screen, cls))
                screen = app.screen
                await pilot.pause()
                assert not changed(screen)
                await wait_for(pilot, lambda: "1-9" in screen_lines(app)[-1].text)  # the footer
                await pilot.press("9")
                await wait_for(pilot, lambda: changed(screen))
                await pilot.press("escape")
                await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))

    asyncio.run(scenario())
