"""Every number and claim the lessons' texts, hints and misconception cards state, measured on the
engine (``experiments/lessons.py``); each test names the lesson whose words it keeps true."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tui_trainer.engine import activations, optimizers
from tui_trainer.experiments.config import with_overrides
from tui_trainer.experiments.lessons import (LESSONS, check_lesson, distinct_units, grad_ratio, lesson_config,
                                             lesson_named, step_ratio)
from tui_trainer.experiments.matrix import DEFAULT_EPOCHS, LR_GRID
from tui_trainer.experiments.limits import MATRIX_SEEDS
from tui_trainer.experiments.presets import get_preset
from tui_trainer.experiments.session import LR_LADDER, Session


def last_snapshot(config, epochs: int | None = None):
    """Train ``config`` (for ``epochs``) as the lessons' headless check does; the last snapshot."""
    if epochs is not None:
        config = with_overrides(config, epochs=epochs)
    session = Session(config)
    session.set_pace(None)
    last = []
    session.run(lambda snap: last.__setitem__(slice(None), [snap]))
    return last[0]


def preset(name: str, **overrides):
    return with_overrides(get_preset(name), **overrides) if overrides else get_preset(name)


def test_every_lessons_view_key_is_one_of_the_apps_views():
    keys = set("bgaxeditupwkosmfhBOI") | {""}
    assert {lesson.view_key for lesson in LESSONS} <= keys


# -- shapes-and-features ---------------------------------------------------------------------------

def test_w1_has_a_row_per_input_and_a_column_per_node():
    lesson = lesson_named("shapes-and-features")
    text = check_lesson(lesson, preset("circles-no-hidden", hidden=[3])).text
    assert "W1 2x3 (2 inputs, 3 nodes)" in text
    assert check_lesson(lesson, preset("circles-no-hidden")).text.startswith("W 2x1: no hidden layer")


# -- vanishing-gradient ----------------------------------------------------------------------------

def test_np_exp_overflows_past_709_and_the_engines_sigmoid_still_gives_0():
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(709.0)) and np.isinf(np.exp(710.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = np.array([[-1000.0, 0.0, 1000.0]])
        a = activations.apply("sigmoid", z.copy())
    assert a.tolist() == [[0.0, 0.5, 1.0]]


def test_sigmoids_slope_is_at_most_a_quarter():
    z = np.linspace(-10, 10, 2001)[None, :]
    a = activations.apply("sigmoid", z.copy())
    slope = a * (1 - a)
    assert slope.max() == pytest.approx(0.25) and slope.max() <= 0.25


def test_through_six_sigmoid_layers_the_first_layers_gradient_is_about_1e_4_of_the_last():
    lesson = lesson_named("vanishing-gradient")
    ratio = grad_ratio(last_snapshot(get_preset(lesson.preset), lesson.epochs))
    assert 3e-5 < ratio < 3e-4


# -- output-layer ----------------------------------------------------------------------------------

def test_softmax_outputs_are_positive_and_sum_to_1_and_the_output_gradient_is_p_minus_y():
    from tui_trainer.engine.losses import get_loss

    z = np.random.default_rng(0).normal(size=(5, 3)) * 10
    p = activations.apply("softmax", z.copy())
    assert np.allclose(p.sum(axis=1), 1.0) and (p > 0).all()
    y = np.eye(3)[[0, 1, 2, 1, 0]]
    grad = np.empty_like(z)
    get_loss("cross_entropy").value_and_grad(z, p, y, grad, np.empty_like(z))
    assert np.allclose(grad * len(z), p - y)  # per sample p - y (the loss is the batch's mean)


def test_one_hot_rows_and_one_output_unit_per_class():
    from tui_trainer.engine.preprocess import one_hot

    assert one_hot(np.array([1]), 3).tolist() == [[0.0, 1.0, 0.0]]  # class 2 of 3
    lesson = lesson_named("output-layer")
    binary = check_lesson(lesson, get_preset(lesson.preset)).text
    iris = check_lesson(lesson, preset(lesson.preset, dataset="iris"))
    assert "output layer 16x1 (1 unit), want >= 3" in binary
    assert iris.passed and "output layer 16x3 (3 units)" in iris.text
    assert check_lesson(lesson, preset(lesson.preset, dataset="wine")).passed


# -- cost-vs-loss ----------------------------------------------------------------------------------

def test_the_mini_batch_loss_rises_often_and_the_full_batch_cost_never_here():
    lesson = lesson_named("cost-vs-loss")
    mini = check_lesson(lesson, get_preset(lesson.preset)).text
    full = check_lesson(lesson, preset(lesson.preset, batch_size="full")).text
    assert "the loss rose in 0% of the last 20 steps" in full
    share = int(mini.split("the loss rose in ")[1].split("%")[0])
    assert share >= 30
    assert get_preset(lesson.preset).training.batch_size == 32


def test_signed_differences_cancel():
    p, y = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert (p - y).sum() == 0 and np.mean((p - y) ** 2) == 1.0


# -- learning-rate ---------------------------------------------------------------------------------

def test_lr_1e_4_leaves_moons_near_68_percent_and_lr_100_diverges_in_the_first_epoch():
    low = last_snapshot(get_preset("lr-too-low"))
    assert low.epoch == 30 and 0.64 <= low.val_metric <= 0.72
    high = last_snapshot(preset("lr-too-low", lr=100.0))
    assert high.state == "diverged" and high.epoch <= 1


@pytest.mark.parametrize("lr", [1.0, 2.0, 5.0, 10.0])
def test_rates_between_1_and_10_do_the_learning_rate_task(lr):
    lesson = lesson_named("learning-rate")
    assert check_lesson(lesson, preset(lesson.preset, lr=lr)).passed


def test_plus_is_one_notch_up_the_1_2_5_ladder():
    assert LR_LADDER[LR_LADDER.index(1e-4) + 1] == 2e-4


# -- backprop --------------------------------------------------------------------------------------

def test_after_20_epochs_the_gradient_ratio_is_3e_4_through_6_sigmoid_layers_and_3e_2_through_3():
    six = grad_ratio(last_snapshot(get_preset("deep-sigmoid"), 20))
    three = grad_ratio(last_snapshot(preset("deep-sigmoid", hidden=[16, 16, 16]), 20))
    assert 2e-4 < six < 5e-4 and 2e-2 < three < 5e-2


@pytest.mark.parametrize("layers, accuracy", [(2, 0.975), (6, 0.975), (12, 0.975), (20, 0.5)])
def test_deeper_is_not_always_more_accurate(layers, accuracy):
    snap = last_snapshot(preset("deep-relu", hidden=[16] * layers), 30)
    assert snap.val_metric == pytest.approx(accuracy)


# -- batch-size ------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size, updates", [("full", 1), (32, 10), (1, 320)])
def test_updates_an_epoch_on_320_training_samples(batch_size, updates):
    snap = last_snapshot(preset("moons-full-batch", batch_size=batch_size), 1)
    assert snap.steps_per_epoch == updates


def test_mini_batches_of_32_are_not_enough_for_the_batch_task():
    lesson = lesson_named("batch-size")
    measured = check_lesson(lesson, preset(lesson.preset, batch_size=32))
    assert not measured.passed and "val acc 0.85," in measured.text


# -- momentum, adagrad, rmsprop --------------------------------------------------------------------

def test_plain_sgd_is_near_56_percent_and_adagrad_near_64_percent_on_the_spiral_after_100_epochs():
    assert last_snapshot(get_preset("spiral-sgd")).val_metric == pytest.approx(0.5625)
    assert last_snapshot(get_preset("spiral-adagrad")).val_metric == pytest.approx(0.6375)


def test_momentum_at_0_9_makes_steps_up_to_10_times_the_gradients():
    opt = optimizers.create("momentum", lr=1.0)
    w = np.zeros(1)
    g = np.ones(1)
    steps = []
    for _ in range(200):
        before = w.copy()
        opt.step([w], [g.copy()])
        steps.append(float(before[0] - w[0]))
    assert steps[0] == pytest.approx(1.0) and steps[-1] == pytest.approx(10.0, rel=1e-6)
    assert max(steps) <= 10.0 + 1e-9


def adagrad_first_step(scale: float) -> np.ndarray:
    opt = optimizers.create("adagrad", lr=0.01)
    w = np.zeros(3)
    opt.step([w], [np.array([1.0, -0.5, 4.0]) * scale])
    return -w


def test_adagrads_first_step_is_lr_per_weight_whatever_the_gradients_scale():
    assert np.allclose(np.abs(adagrad_first_step(1.0)), 0.01)
    assert np.allclose(adagrad_first_step(0.5), adagrad_first_step(1.0))


# -- adam ------------------------------------------------------------------------------------------

def test_with_sgd_the_first_sigmoid_layers_steps_are_about_1e_4_of_the_last_layers():
    lesson = lesson_named("adam")
    assert 3e-5 < step_ratio(last_snapshot(get_preset(lesson.preset), lesson.epochs)) < 3e-4


# -- adamw -----------------------------------------------------------------------------------------

def test_adam_with_l2_001_ends_at_046_and_adamw_with_001_at_387():
    adamw = last_snapshot(get_preset("overfit-adamw"))
    config = get_preset("overfit-adamw")
    config.optimizer = type(config.optimizer)(name="adam", lr=0.01, hparams={"weight_decay": 0.01})
    adam = last_snapshot(config)
    assert round(adam.val_loss, 2) == 0.46 and round(adamw.val_loss, 2) == 3.87
    assert 0.01 * 0.01 == pytest.approx(1e-4)


@pytest.mark.parametrize("decay", [3.0, 10.0])
def test_adamw_decays_of_3_and_10_do_the_adamw_task(decay):
    config = get_preset("overfit-adamw")
    config.optimizer.hparams["weight_decay"] = decay
    assert check_lesson(lesson_named("adamw"), config).passed


# -- initialization --------------------------------------------------------------------------------

def test_zero_init_keeps_every_weight_at_zero_and_the_units_identical():
    snap = last_snapshot(get_preset("zero-init"))
    assert all(not w.any() for w in snap.params[0::2])
    assert distinct_units(snap) == (1, 16)
    assert "1 distinct unit of 16 in layer 1, want 16" in lesson_named("initialization").check(snap, get_preset("zero-init")).text


def test_small_init_breaks_the_symmetry_but_learns_more_slowly_than_xavier():
    lesson = lesson_named("initialization")
    small = check_lesson(lesson, preset("zero-init", init="small"))
    xavier = check_lesson(lesson, preset("zero-init", init="xavier"))
    assert "16 distinct units of 16" in small.text and not small.passed and xavier.passed


# -- overfitting -----------------------------------------------------------------------------------

def test_the_overfit_presets_validation_loss_climbs_to_about_39():
    assert round(last_snapshot(get_preset("overfit")).val_loss, 1) == 3.9


def test_the_overfitting_lesson_counts_its_training_samples():
    config = get_preset("overfit")
    assert round(config.data.n_samples * (1 - config.data.val_split)) == 50
    assert lesson_named("overfitting").text.startswith("50 noisy training samples")


def test_early_stopping_does_the_overfitting_task():
    config = get_preset("overfit")
    config.training.patience = 20
    measured = check_lesson(lesson_named("overfitting"), config)
    assert measured.passed, measured.text


# -- choosing-an-optimizer -------------------------------------------------------------------------

def test_the_matrix_protocol_is_as_the_lesson_says():
    assert len(LR_GRID) == 7 and LR_GRID[0] == 1e-4 and LR_GRID[-1] == 1.0
    assert MATRIX_SEEDS == 5 and DEFAULT_EPOCHS == lesson_named("choosing-an-optimizer").epochs


def test_adamp_steps_much_like_adam_on_these_networks():
    adam = last_snapshot(preset("sine-sgd", optimizer="adam", lr=0.01))
    adamp = last_snapshot(preset("sine-sgd", optimizer="adamp", lr=0.01))
    assert abs(adam.val_metric - adamp.val_metric) < 0.01


@pytest.mark.parametrize("optimizer, lr", [("momentum", 0.01), ("adam", None), ("adam", 0.01)])
def test_the_hinted_optimizers_do_the_sine_task(optimizer, lr):
    assert check_lesson(lesson_named("choosing-an-optimizer"), preset("sine-sgd", optimizer=optimizer, lr=lr)).passed


def test_lesson_config_trains_for_the_lessons_budget():
    lesson = lesson_named("overfitting")
    assert lesson_config(lesson, get_preset("spiral-tanh")).training.epochs == lesson.epochs


def test_lesson_config_is_a_copy():
    config = get_preset("overfit")
    trained = lesson_config(lesson_named("cost-vs-loss"), config)
    assert trained.training.epochs == 30 and config.training.epochs == 400
    trained.network.settings["l2"] = 1.0
    assert config.network.settings.get("l2") != 1.0


def test_plain_sgd_at_001_reaches_079_on_sine_in_30_epochs():
    measured = check_lesson(lesson_named("choosing-an-optimizer"), get_preset("sine-sgd"))
    assert "val R² 0.79, want >= 0.90" in measured.text and not measured.passed


@pytest.mark.parametrize("lesson_id, overrides", [
    ("momentum", dict(hidden=[64, 64])), ("rmsprop", dict(activation="relu")),
    ("choosing-an-optimizer", dict(hidden=[32])), ("adamw", dict(hidden=[8])),
])
def test_a_task_that_keeps_the_network_says_so_when_it_changed(lesson_id, overrides):
    lesson = lesson_named(lesson_id)
    config = preset(lesson.preset, **overrides)
    session = Session(config)
    measured = lesson.check(session.snapshot(), session.config)
    assert not measured.passed and "(the task keeps the network)" in measured.text


def test_the_lessons_presets_are_what_their_descriptions_say():
    from tui_trainer.experiments.presets import PRESETS

    low = last_snapshot(get_preset("lr-too-low"))
    first = float(low.loss_y[0])
    assert low.train_loss > 0.9 * first  # "the loss barely moves": under 10% in 30 epochs
    assert last_snapshot(get_preset("spiral-sgd")).val_metric < 0.6
    full = last_snapshot(get_preset("moons-full-batch"), 1)
    assert full.steps_per_epoch == 1 and last_snapshot(get_preset("moons-sgd"), 1).steps_per_epoch == 10
    added = ("circles-no-hidden", "moons-sgd", "moons-full-batch", "lr-too-low", "spiral-sgd",
             "spiral-adagrad", "overfit-adamw", "zero-init", "sine-sgd")
    assert all(len(f"{name:<19}{PRESETS[name].description}") <= 80 for name in added)  # nn-tui presets at 80 columns


# -- hints: the config pane's fields they name, and what they promise --------------------------------

def test_the_hints_name_the_config_panes_own_fields():
    import inspect

    from tui_trainer.tui.widgets import config_pane

    source = inspect.getsource(config_pane)
    labels = [label for label, _ in config_pane.BATCH_MODES]
    assert any(label.startswith("full batch") for label in labels) and any(label.startswith("single sample") for label in labels)
    assert config_pane.SHORT_NAMES["weight_decay"] == "wt decay"
    for text in ('"+ add layer"', 'Static("Network"', 'Static("Optimizer"', 'Static("Training"', 'Static("Generalization"',
                 'Button("x"'):
        assert text in source, text
    hints = " ".join(hint for lesson in LESSONS for hint in lesson.hints)
    assert "h in the config pane" not in hints


def test_a_hint_naming_all_layers_has_that_select():
    """The "all layers" select shows from ``ALL_LAYERS_FROM`` hidden layers: a lesson whose hint names
    it starts with that many."""
    import inspect

    from tui_trainer.experiments.presets import get_preset
    from tui_trainer.tui.widgets import config_pane

    naming = [lesson for lesson in LESSONS if any("all layers" in hint for hint in lesson.hints)]
    assert {lesson.id for lesson in naming} >= {"vanishing-gradient", "linear-collapse"}
    assert '"all layers"' in inspect.getsource(config_pane)
    for lesson in naming:
        assert len(get_preset(lesson.preset).network.hidden) >= config_pane.ALL_LAYERS_FROM, lesson.id


@pytest.mark.parametrize("lesson_id, overrides", [
    ("shapes-and-features", dict(hidden=[8], activation="relu")),  # + add layer's new layer
    ("momentum", dict(optimizer="sgd", lr=0.1)),  # with momentum 0.9 set below
    ("initialization", dict(init="he")),
    ("rmsprop", dict(optimizer="rmsprop")),  # its default lr
    ("choosing-an-optimizer", dict(optimizer="momentum")),  # its default lr
])
def test_what_the_hints_suggest_does_the_task(lesson_id, overrides):
    lesson = lesson_named(lesson_id)
    config = preset(lesson.preset, **overrides)
    if lesson_id == "momentum":
        config.optimizer.hparams["momentum"] = 0.9
    measured = check_lesson(lesson, config)
    assert measured.passed, measured.text


def test_the_default_rates_the_hints_give():
    assert optimizers.defaults("rmsprop")["lr"] == 0.01 and optimizers.defaults("adam")["lr"] == 0.001
    assert optimizers.defaults("momentum")["lr"] == 0.01 and optimizers.defaults("momentum")["momentum"] == 0.9


def test_on_iris_the_config_panes_output_line_says_3_x_softmax():
    from tui_trainer.engine.datasets import load_dataset
    from tui_trainer.experiments.experiment import output_and_loss

    iris = load_dataset("iris")
    assert iris.n_outputs == 3 and output_and_loss(iris.problem)[0] == "softmax"
    assert output_and_loss(load_dataset("spiral").problem)[0] == "sigmoid"
