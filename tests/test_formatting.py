"""Numbers and hyperparameters as text: ``engine.numbers`` and ``hparam_text``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui_trainer.engine.numbers import (
    DASH,
    abbreviated,
    byte_size,
    compact,
    figure,
    finite_or_none,
    fixed,
    readout,
    short_exponent,
    significant,
    tick_label,
)
from tui_trainer.engine.optimizers import OPTIMIZERS
from tui_trainer.experiments.hparam_text import (
    UnreadableText,
    hparam_text,
    hparams_hint,
    hparams_text,
    parse_hparam,
    parse_hparams,
    parse_number,
    parse_positive,
)

# --- numbers ------------------------------------------------------------------------------------


def test_significant_writes_python_g_with_a_plain_zero():
    assert significant(0.0001234567) == "0.0001235"
    assert significant(1e-8) == "1e-08" and significant(123456789) == "1.235e+08"
    assert significant(-2.5) == "-2.5" and significant(2 / 3, 3) == "0.667"
    assert significant(-0.0) == "0" and significant(-1e-30, 3) == "-1e-30"
    assert [significant(v) for v in (math.nan, math.inf, -math.inf)] == ["nan", "inf", "-inf"]
    assert significant(np.float32(0.1)) == "0.1" and significant(np.float64(1234.5678)) == "1235"


def test_compact_narrows_the_exponent():
    assert short_exponent("1e-05") == "1e-5" and short_exponent("2.5e+06") == "2.5e6"
    assert short_exponent("0.25") == "0.25"
    assert compact(1e-5) == "1e-5" and compact(3.2e-4, 2) == "0.00032" and compact(2.5e6) == "2.5e6"
    assert compact(0.693147, 3) == "0.693" and compact(math.nan) == "nan"


def test_figure_shows_a_dash_for_no_number():
    assert figure(None) == DASH and figure(math.nan) == DASH and figure(math.inf, missing="-") == "-"
    assert figure(1.5e-5) == "1.5e-5" and figure(1.5e-5, short=False) == "1.5e-05"
    assert figure(12345.678, short=False) == "1.235e+04" and figure(12345.678, 2, short=False) == "1.2e+04"
    assert finite_or_none(math.nan) is None and finite_or_none(None) is None and finite_or_none(2.0) == 2.0


def test_fixed_and_readout():
    assert fixed(0.693147) == "0.6931" and fixed(12.6, 0) == "13" and fixed(7, 0) == "7"
    assert fixed(None, missing="-") == "-"
    assert readout(0.12345) == "0.1235" and readout(0) == "0.0000" and readout(-12.5) == "-12.5000"
    assert readout(1.5e-5) == "1.5e-05" and readout(123456.0) == "1.235e+05" and readout(math.nan) == "nan"


def test_tick_labels_are_short():
    assert [abbreviated(v) for v in (0, 500, 2500, 12500, 1_000_000, 1_500_000, 2e9)] == [
        "0", "500", "2.5k", "12.5k", "1M", "1.5M", "2G"]
    assert [tick_label(v, 0.25) for v in (0.25, 0.5, 1.0)] == ["0.25", "0.5", "1"]
    assert [tick_label(v, 0.2) for v in (0.2, 0.4)] == ["0.2", "0.4"]
    assert [tick_label(v, 2.5) for v in (2.5, 5.0)] == ["2.5", "5"]
    assert [tick_label(v, 25) for v in (25, 50)] == ["25", "50"]
    assert [tick_label(v, 0.0001) for v in (0.1234, 0.1235)] == ["0.1234", "0.1235"]
    assert tick_label(0, 1) == "0" and tick_label(2e-5, 1e-5) == "2e-5" and tick_label(3e6, 1e6) == "3e6"


def test_byte_sizes():
    assert byte_size(100) == "100 bytes" and byte_size(12 * 2**10) == "12 KiB"
    assert byte_size(256 * 2**20) == "256 MiB" and byte_size(3 * 2**19) == "1.5 MiB"
    assert byte_size(2**20 + 1) == "1.0 MiB"  # not exactly 1 MiB, so not written as if it were
    assert byte_size(2**41) == "2 TiB" and byte_size(2**50) == "1,024 TiB"
    assert byte_size(8 * 2**30, estimate=True) == "8.0 GiB" and byte_size(800, estimate=True) == "800 bytes"


# --- hyperparameter text ------------------------------------------------------------------------


def test_a_hyperparameter_is_written_as_it_is_typed():
    assert hparam_text(0.01) == "0.01" and hparam_text(1e-8) == "1e-08" and hparam_text(0) == "0"
    assert hparam_text(True) == "true" and hparam_text(False) == "false"
    assert hparam_text((0.9, 0.999)) == "0.9, 0.999" and hparam_text([0.9, 0.999], enclosed=True) == "(0.9, 0.999)"
    assert hparams_text({"betas": (0.9, 0.999), "amsgrad": False}) == "betas=(0.9, 0.999) amsgrad=false"
    assert hparams_hint("sgd") == "momentum=0 dampening=0 weight_decay=0 nesterov=false"


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizers_settings_read_back_from_their_text(name):
    for spec in OPTIMIZERS[name].hparam_specs:
        assert parse_hparam(hparam_text(spec.default), spec.kind) == spec.default
        assert parse_hparam(hparam_text(spec.default, enclosed=True), spec.kind) == spec.default
    defaults = {spec.name: spec.default for spec in OPTIMIZERS[name].hparam_specs if spec.name != "lr"}
    assert parse_hparams(name, hparams_hint(name)) == defaults


def test_a_value_is_read_by_its_kind():
    assert parse_hparam(" 0.5 ") == 0.5 and parse_hparam("1e-3", "float") == 1e-3
    assert parse_hparam("TRUE", "bool") is True and parse_hparam("false", "bool") is False
    for text in ("0.8, 0.9", "0.8,0.9", "0.8 0.9", "(0.8, 0.9)"):
        assert parse_hparam(text, "betas") == (0.8, 0.9)
    with pytest.raises(UnreadableText, match="'yes' is not true or false"):
        parse_hparam("yes", "bool")
    with pytest.raises(UnreadableText, match="two numbers, e.g. 0.9, 0.999"):
        parse_hparam("0.9", "betas")
    with pytest.raises(UnreadableText, match="'x' is not a number"):
        parse_hparam("0.9, x", "betas")


def test_field_readers_say_what_to_type():
    with pytest.raises(UnreadableText, match="^needs a number$"):
        parse_number("  ")
    with pytest.raises(UnreadableText, match="^'abcdefghi…' is not a number$"):
        parse_number("abcdefghijklmnop")
    assert parse_number(" 12 ", whole=True) == 12
    with pytest.raises(UnreadableText, match="^'1.5' is not a whole number$"):
        parse_number("1.5", whole=True)
    with pytest.raises(UnreadableText, match="^needs a whole number$"):
        parse_number("", whole=True)
    assert parse_positive(" 1e-3 ", "lr") == 1e-3 and parse_positive("3", "epochs", whole=True) == 3
    for text, whole in (("abc", False), ("0", False), ("inf", False), ("0", True), ("2.5", True)):
        with pytest.raises(ValueError, match="must be a (whole )?number"):
            parse_positive(text, "lr", whole=whole)


def test_a_lab_field_of_several_is_checked_by_the_optimizer():
    assert parse_hparams("sgd", "momentum=0.5 nesterov=true") == {"momentum": 0.5, "nesterov": True}
    assert parse_hparams("adam", "betas=(0.8, 0.9), eps=1e-6") == {"betas": (0.8, 0.9), "eps": 1e-6}
    with pytest.raises(ValueError, match="adam has no hyperparameter 'momentum'"):
        parse_hparams("adam", "momentum=0.9")
    with pytest.raises(ValueError, match=r"momentum must be in \[0"):
        parse_hparams("sgd", "momentum=-1")
    with pytest.raises(ValueError, match="lane's own field"):
        parse_hparams("sgd", "lr=1")
    with pytest.raises(ValueError, match="name=value"):
        parse_hparams("sgd", "momentum")
