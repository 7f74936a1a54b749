"""Learning-rate schedules: torch's numbers epoch by epoch, validation, and the trainer applying them."""

import math

import numpy as np
import pytest

from tests.conftest import import_torch
from tui_trainer.engine import optimizers
from tui_trainer.engine.schedules import SCHEDULES, WARMUP_PARAMS, Schedule, create_schedule

from .test_trainer import experiment


def closed_cosine(t, base, t_max, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


# -- the numbers ---------------------------------------------------------------------------------


def test_step_decays_by_gamma_every_step_size_epochs_as_repeated_products():
    lrs = create_schedule("step", step_size=3).lrs(10, 0.3)
    g = 0.1
    assert lrs == [0.3, 0.3, 0.3, 0.3 * g, 0.3 * g, 0.3 * g, 0.3 * g * g, 0.3 * g * g, 0.3 * g * g, 0.3 * g * g * g]
    assert lrs[9] != 0.3 * g**3  # torch multiplies step by step, not by gamma ** k: the last bits differ
    assert lrs[9] == pytest.approx(0.3 * g**3, rel=1e-15)


def test_exponential_multiplies_by_gamma_every_epoch():
    lrs = create_schedule("exponential", gamma=0.9).lrs(6, 0.1)
    expected = [0.1]
    for _ in range(5):
        expected.append(expected[-1] * 0.9)
    assert lrs == expected
    assert lrs == pytest.approx([0.1 * 0.9**t for t in range(6)], rel=1e-15)


def test_cosine_follows_the_closed_form_down_to_eta_min_and_climbs_back_after_t_max():
    s = create_schedule("cosine", T_max=4)
    lrs = s.lrs(10, 0.1)
    assert lrs[0] == 0.1
    assert lrs == pytest.approx([closed_cosine(t, 0.1, 4) for t in range(10)], rel=1e-14, abs=1e-17)
    assert lrs[2] == 0.05
    assert lrs[4] == 0.0  # (1 + cos(pi)) is exactly 0 in the recursion
    assert lrs[5] > 0 and lrs[8] == pytest.approx(0.1)  # no clamp at T_max, as in torch
    with_min = create_schedule("cosine", T_max=5, eta_min=0.01).lrs(12, 0.1)
    assert with_min == pytest.approx([closed_cosine(t, 0.1, 5, 0.01) for t in range(12)], rel=1e-13)
    assert min(with_min) == pytest.approx(0.01)


def test_cosine_uses_torchs_recursion_not_the_closed_form():
    """torch's chainable form: lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)),
    and just past a minimum lr_{t-1} + (base - eta_min) * (1 - cos(pi / T)) / 2."""
    t_max, eta_min, base = 7, 0.001, 0.3
    expected = [base]
    for t in range(1, 30):
        lr = expected[-1]
        if (t - 1 - t_max) % (2 * t_max) == 0:
            expected.append(lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2)
        else:
            expected.append((1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
                            * (lr - eta_min) + eta_min)
    assert create_schedule("cosine", T_max=t_max, eta_min=eta_min).lrs(30, base) == expected


def test_warmup_alone_is_linear_lr_from_start_factor_to_the_lr():
    s = create_schedule("constant", warmup_epochs=3)
    lrs = s.lrs(7, 1.0)
    assert lrs == pytest.approx([1 / 3, 5 / 9, 7 / 9, 1.0, 1.0, 1.0, 1.0], rel=1e-15)
    assert lrs[0] == 1.0 * (1.0 / 3)
    half = create_schedule("constant", warmup_epochs=4, warmup_start_factor=0.5).lrs(6, 0.2)
    assert half == pytest.approx([0.1, 0.125, 0.15, 0.175, 0.2, 0.2], rel=1e-15)


def test_warmup_then_a_schedule_starts_it_at_the_lr_and_counts_its_epochs_from_there():
    exp = create_schedule("exponential", gamma=0.5, warmup_epochs=3).lrs(7, 1.0)
    assert exp[:3] == pytest.approx([1 / 3, 5 / 9, 7 / 9], rel=1e-15)
    assert exp[3:] == [1.0, 0.5, 0.25, 0.125]  # exactly the lr at the milestone, as SequentialLR sets it
    step = create_schedule("step", step_size=2, gamma=0.1, warmup_epochs=2, warmup_start_factor=0.5).lrs(8, 0.4)
    assert step == pytest.approx([0.2, 0.3, 0.4, 0.4, 0.04, 0.04, 0.004, 0.004])
    cos = create_schedule("cosine", T_max=4, warmup_epochs=1, warmup_start_factor=0.1).lrs(6, 0.1)
    assert cos[0] == 0.1 * 0.1 and cos[1] == 0.1
    assert cos[1:] == pytest.approx([closed_cosine(t, 0.1, 4) for t in range(5)], abs=1e-17)


def test_constant_without_warmup_is_the_lr_itself():
    assert create_schedule("constant").lrs(5, 0.123) == [0.123] * 5


def test_lr_at_is_a_pure_function_of_its_arguments():
    s = create_schedule("cosine", T_max=10, warmup_epochs=2)
    fresh = create_schedule("cosine", T_max=10, warmup_epochs=2)
    for epoch, base in [(15, 0.1), (3, 0.1), (15, 0.1), (7, 0.2), (0, 0.2), (25, 0.1), (25, 0.3)]:
        again = create_schedule("cosine", T_max=10, warmup_epochs=2)
        assert s.lr_at(epoch, base) == again.lr_at(epoch, base) == fresh.lrs(epoch + 1, base)[-1]
    with pytest.raises(ValueError, match="epoch"):
        s.lr_at(-1, 0.1)


def test_a_long_schedule_costs_little_when_asked_epoch_after_epoch():
    s = create_schedule("exponential", gamma=0.9999)
    lrs = [s.lr_at(t, 0.1) for t in range(50_000)]
    assert lrs[-1] == pytest.approx(0.1 * 0.9999**49_999, rel=1e-9)


# -- torch, where installed ----------------------------------------------------------------------

TORCH_CASES = [
    ("step", {"step_size": 3}),
    ("step", {"step_size": 2, "gamma": 0.5}),
    ("exponential", {"gamma": 0.9}),
    ("cosine", {"T_max": 7}),
    ("cosine", {"T_max": 5, "eta_min": 0.001}),
    ("constant", {"warmup_epochs": 4}),
    ("constant", {"warmup_epochs": 3, "warmup_start_factor": 0.1}),
    ("step", {"step_size": 3, "warmup_epochs": 2}),
    ("exponential", {"gamma": 0.8, "warmup_epochs": 3, "warmup_start_factor": 0.25}),
    ("cosine", {"T_max": 6, "eta_min": 0.002, "warmup_epochs": 3}),
]


def torch_lrs(name, params, base, epochs):
    """torch's lr for each epoch, its scheduler stepped once after each epoch's optimizer steps."""
    torch = import_torch()
    import warnings

    from torch.optim import lr_scheduler as tls

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    params = dict(params)
    warm = params.pop("warmup_epochs", 0)
    factor = params.pop("warmup_start_factor", 1.0 / 3)
    main = {"step": lambda: tls.StepLR(opt, **params), "exponential": lambda: tls.ExponentialLR(opt, **params),
            "cosine": lambda: tls.CosineAnnealingLR(opt, **params), "constant": lambda: None}[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if warm:
            warmup = tls.LinearLR(opt, start_factor=factor, end_factor=1.0, total_iters=warm)
            sched = main()
            sched = warmup if sched is None else tls.SequentialLR(opt, [warmup, sched], milestones=[warm])
        else:
            sched = main()
        out = []
        for _ in range(epochs):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            if sched is not None:
                sched.step()
    return [float(v) for v in out]


@pytest.mark.parametrize("name,params", TORCH_CASES)
def test_bit_identical_to_torchs_schedulers(name, params):
    expected = torch_lrs(name, params, 0.1, 40)
    assert create_schedule(name, **params).lrs(40, 0.1) == expected


# -- validation and the registry -----------------------------------------------------------------


@pytest.mark.parametrize("name,params,match", [
    ("linear", {}, "unknown lr schedule 'linear'; choose one of: constant, step, exponential, cosine"),
    ("step", {}, "needs step_size"),
    ("exponential", {}, "needs gamma"),
    ("cosine", {}, "needs T_max"),
    ("step", {"step_size": 0}, r"step_size must be in \[1, inf\), got 0"),
    ("step", {"step_size": 2.5}, "step_size must be a whole number"),
    ("step", {"step_size": "3"}, "step_size must be a whole number"),
    ("step", {"step_size": 2, "gamma": 0}, r"gamma must be in \(0, 1\], got 0"),
    ("step", {"step_size": 2, "gamma": 1.5}, r"gamma must be in \(0, 1\]"),
    ("exponential", {"gamma": float("nan")}, "gamma must be in"),
    ("exponential", {"gamma": True}, "gamma must be a number"),
    ("cosine", {"T_max": 10, "eta_min": -0.1}, r"eta_min must be in \[0, inf\)"),
    ("cosine", {"T_max": -1}, "T_max must be in"),
    ("cosine", {"T_max": 10, "step_size": 3}, "schedule 'cosine' has no parameter 'step_size'; allowed: T_max, eta_min"),
    ("constant", {"warmup_epochs": -1}, r"warmup_epochs must be in \[0, inf\)"),
    ("constant", {"warmup_epochs": 3, "warmup_start_factor": 0}, r"warmup_start_factor must be in \(0, 1\]"),
    ("constant", {"warmup_epochs": 3, "warmup_start_factor": 1.5}, "warmup_start_factor must be in"),
])
def test_bad_settings_raise_value_errors_naming_the_parameter_and_range(name, params, match):
    with pytest.raises(ValueError, match=match):
        create_schedule(name, **params)


def test_whole_floats_and_numpy_numbers_are_accepted():
    s = create_schedule("step", step_size=np.int64(3), gamma=np.float32(0.5), warmup_epochs=2.0)
    assert s.params == {"step_size": 3, "gamma": 0.5} and s.warmup_epochs == 2
    assert type(s.params["step_size"]) is int and type(s.params["gamma"]) is float


def test_the_registry_lists_each_schedule_with_its_parameters_and_defaults():
    assert list(SCHEDULES) == ["constant", "step", "exponential", "cosine"]
    assert SCHEDULES["step"].defaults() == {"step_size": None, "gamma": 0.1}
    assert SCHEDULES["exponential"].defaults() == {"gamma": None}
    assert SCHEDULES["cosine"].defaults() == {"T_max": None, "eta_min": 0.0}
    assert SCHEDULES["cosine"].torch == "CosineAnnealingLR" and SCHEDULES["step"].torch == "StepLR"
    assert [p.name for p in WARMUP_PARAMS] == ["warmup_epochs", "warmup_start_factor"]
    for spec in SCHEDULES.values():
        assert spec.summary
        for p in spec.params:
            assert p.doc and p.range_text().startswith(("[", "("))
        required = {p.name: 1 for p in spec.params if p.required}
        assert isinstance(create_schedule(spec.name, **required), Schedule)


def test_settings_make_the_same_schedule_again_and_the_description_names_torch():
    s = create_schedule("cosine", T_max=50, warmup_epochs=5)
    assert s.settings == {"T_max": 50, "eta_min": 0.0, "warmup_epochs": 5, "warmup_start_factor": 1 / 3}
    assert create_schedule("cosine", **s.settings) == s
    assert "torch CosineAnnealingLR" in s.description and "T_max=50" in s.description
    assert "warmup over 5 epochs" in s.description
    assert "warmup" not in create_schedule("step", step_size=10).description


# -- the trainer applies it once per epoch -------------------------------------------------------


@pytest.mark.parametrize("batch_size", ["full", 16])
def test_the_trainer_sets_each_epochs_lr_from_the_schedule(batch_size):
    schedule = create_schedule("cosine", T_max=4, warmup_epochs=2)
    exp = experiment(optimizer="sgd", lr=0.1, batch_size=batch_size)
    exp.trainer.schedule = schedule
    seen = []
    exp.trainer.on_step = lambda rec: seen.append((rec.epoch, rec.lr))
    result = exp.trainer.run(8)
    expected = schedule.lrs(8, 0.1)
    assert [r.lr for r in result.history] == expected
    assert all(lr == expected[epoch - 1] for epoch, lr in seen)
    assert exp.opt.lr == schedule.lr_at(8, 0.1)  # already set for the next epoch, as torch's scheduler.step()
    assert exp.trainer.base_lr == 0.1


def test_a_scheduled_run_equals_setting_each_epochs_lr_by_hand():
    schedule = create_schedule("step", step_size=2, gamma=0.5, warmup_epochs=1)
    scheduled = experiment(optimizer="adam", lr=0.02)
    scheduled.trainer.schedule = schedule
    scheduled.trainer.run(6)
    by_hand = experiment(optimizer="adam", lr=0.02)
    for epoch in range(6):
        by_hand.opt.lr = schedule.lr_at(epoch, 0.02)
        by_hand.trainer.run(epoch + 1)
    assert np.array_equal(scheduled.net.flat_params, by_hand.net.flat_params)
    assert [r.train_loss for r in scheduled.trainer.history] == [r.train_loss for r in by_hand.trainer.history]


def test_no_schedule_and_a_constant_one_are_bit_identical_to_training_without():
    plain = experiment(optimizer="sgd", lr=0.05)
    plain.trainer.run(5)
    for schedule in (None, create_schedule("constant")):
        exp = experiment(optimizer="sgd", lr=0.05)
        exp.trainer.schedule = schedule
        exp.trainer.run(5)
        assert np.array_equal(exp.net.flat_params, plain.net.flat_params)
        assert [r.lr for r in exp.trainer.history] == [0.05] * 5
    assert plain.trainer.schedule is None and plain.trainer.base_lr is None


def test_a_live_lr_change_becomes_the_new_base():
    schedule = create_schedule("exponential", gamma=0.5)
    exp = experiment(optimizer="sgd", lr=0.1)
    exp.trainer.schedule = schedule
    exp.trainer.run(3)
    assert exp.opt.lr == schedule.lr_at(3, 0.1)
    exp.trainer.set_hparams(lr=0.8)  # no loop running: applied at once, scaled by the schedule
    assert exp.trainer.base_lr == 0.8 and exp.opt.lr == schedule.lr_at(3, 0.8)
    exp.trainer.run(4)
    assert exp.trainer.history[-1].lr == schedule.lr_at(3, 0.8)
    exp.opt.lr = 0.4  # set directly: noticed at the epoch's end
    exp.trainer.run(5)
    assert exp.trainer.history[-1].lr == 0.4
    assert exp.trainer.base_lr == 0.4 and exp.opt.lr == schedule.lr_at(5, 0.4)


def test_a_new_optimizer_brings_a_new_base():
    schedule = create_schedule("step", step_size=1, gamma=0.5)
    exp = experiment(optimizer="sgd", lr=0.1)
    exp.trainer.schedule = schedule
    exp.trainer.run(2)
    exp.trainer.set_optimizer(optimizers.create("adam", lr=0.01))
    assert exp.trainer.base_lr == 0.01 and exp.opt.lr == schedule.lr_at(2, 0.01)
    exp.trainer.run(3)
    assert [r.lr for r in exp.trainer.history] == [0.1, 0.05, schedule.lr_at(2, 0.01)]


def test_base_lr_resumes_a_scheduled_run_at_its_epoch():
    schedule = create_schedule("cosine", T_max=10)
    exp = experiment(optimizer="sgd", lr=0.1)
    exp.trainer.epoch = 4  # as a resume sets it; the optimizer's lr is whatever the model file held
    exp.opt.lr = 0.0123
    exp.trainer.schedule = schedule
    exp.trainer.base_lr = 0.1
    exp.trainer.run(6)
    assert [r.lr for r in exp.trainer.history] == [schedule.lr_at(4, 0.1), schedule.lr_at(5, 0.1)]


def test_a_schedule_can_be_set_and_removed_between_runs():
    exp = experiment(optimizer="sgd", lr=0.1)
    exp.trainer.run(1)
    exp.trainer.schedule = create_schedule("exponential", gamma=0.5)  # from the next step, at epoch 1's value
    exp.trainer.run(3)
    exp.trainer.schedule = None
    exp.trainer.run(4)
    assert [r.lr for r in exp.trainer.history] == [0.1, 0.05, 0.025, 0.0125]
