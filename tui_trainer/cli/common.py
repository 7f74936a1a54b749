"""What every ``nn-tui`` command shares: one ``Error:`` line for any failure, options checked
as they are parsed, and config problems told in terms of the options that caused them."""

from __future__ import annotations

import functools
import re
import sys

import click

from ..engine.text import visible_lines

class UserError(click.ClickException):
    """A problem with what the user gave us, shown as one ``Error: ...`` message; whatever in it
    came from outside (a file name, a header, a value) shown as visible escapes, never control."""

    def format_message(self) -> str:
        return visible_lines(self.message)


def friendly_errors(fn):
    """Turn every failure into one ``Error:`` line and a non-zero exit status, never a traceback.

    The engine's ValueErrors and file errors are the user's to fix; memory, nesting and number
    overflow are told as such; anything else, as a last resort, is an unexpected error to report.
    Ctrl-C outside training (which handles its own) exits with 130, as shells expect; a closed
    standard output (``| head``) ends quietly.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except BrokenPipeError:  # the reader is gone (``| head``): click ends quietly, status 1
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except (ValueError, OSError) as exc:
            raise UserError(one_problem_one_line(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
            raise UserError(_unexpected(exc)) from None

    return wrapper


def _unexpected(exc: Exception) -> str:
    """One line for an exception no handler expected."""
    from ..experiments.files import describe_error

    reason = describe_error(exc)
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    if isinstance(exc, MemoryError):
        return f"{reason} ({detail})" if detail else reason
    if isinstance(exc, RecursionError):
        return reason
    if isinstance(exc, OverflowError):
        return f"a number is too large: {reason}"
    name = type(exc).__name__
    return f"unexpected {name}: {reason}; please report it" if detail else f"unexpected {name}; please report it"


def one_problem_one_line(message: str) -> str:
    """``cfg.toml: 1 problem:\n  [training] epochs = 0: ...`` -> ``cfg.toml: [training] epochs = 0: ...``.

    A config with several problems keeps its summary line with one line per problem below it.
    """
    return re.sub(r": 1 problem:\n\s*", ": ", message)


class OneLineUsageErrors(click.Command):
    """A command whose bad options are reported as one ``Error: ...`` line, without the usage text
    (an option's value echoed in it as visible escapes, never terminal control)."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None  # UsageError.show() prints the usage and a hint only when it has a context
            exc.message = visible_lines(exc.message)
            raise


class OneLineUsageGroup(click.Group):
    """A group whose bad options are reported as one ``Error: ...`` line, like ``OneLineUsageErrors``."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None
            raise

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None
            raise


def parse_hidden(ctx, param, value: str | None) -> list[int] | None:
    """``64,32`` -> [64, 32]; ``""`` or ``none`` -> [] (no hidden layer)."""
    if value is None:
        return None
    if value.strip().lower() in ("", "none"):
        return []
    try:
        widths = [int(part) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 64,32, got {value!r}")
    if any(w < 1 for w in widths):
        raise click.BadParameter(f"layer widths must be at least 1, got {value!r}")
    return widths


def parse_batch_size(ctx, param, value: str | None) -> int | str | None:
    """An integer >= 1 or ``full`` (the batch size's own reading: ``settings.parse_batch_size``)."""
    from ..experiments.settings import parse_batch_size as parse

    try:
        return None if value is None else parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def positive(ctx, param, value):
    """Reject zero and negative numbers with a message naming the option (the learning rate's own
    check: ``settings.positive_number``)."""
    from ..experiments.settings import positive_number

    try:
        return None if value is None else positive_number(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def parse_features(ctx, param, value: str | None) -> list[str] | None:
    """``x1sq,x2sq`` -> ["x1sq", "x2sq"] (the names are checked with the config)."""
    if value is None:
        return None
    names = [part.strip() for part in value.split(",")]
    if not any(names):
        from ..engine.features import FEATURES

        raise click.BadParameter(f"expected comma-separated feature names such as x1sq,x2sq; "
                                 f"choose from: {', '.join(FEATURES)}")
    return names


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_schedule(ctx, param, value: str | None) -> dict | None:
    """``cosine:T_max=100,warmup_epochs=5`` -> {"name": "cosine", "T_max": 100, "warmup_epochs": 5};
    ``none`` -> the constant schedule (the lr as set). The parameters are checked with the config."""
    if value is None:
        return None
    name, _, rest = value.partition(":")
    name = name.strip()
    if name.lower() == "none":
        name = "constant"
    if not name:
        raise click.BadParameter(f"expected NAME or NAME:KEY=VALUE,... such as cosine:T_max=100, got {value!r}")
    schedule: dict = {"name": name}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, number = item.partition("=")
        if key.strip() in schedule:  # the name, or a key given before: which one is meant?
            raise click.BadParameter(f"the key {key.strip()!r} is given twice in {value!r}")
        try:
            schedule[key.strip()] = _number(number.strip())
        except ValueError:
            raise click.BadParameter(f"expected KEY=NUMBER such as T_max=100, got {item!r} in {value!r}") from None
        if not eq or not key.strip():
            raise click.BadParameter(f"expected KEY=NUMBER such as T_max=100, got {item!r} in {value!r}")
    return schedule


def schedule_text(schedule: dict) -> str:
    """A schedule as ``--schedule`` takes it: ``cosine:T_max=100,warmup_epochs=5``."""
    params = ",".join(f"{k}={v}" for k, v in schedule.items() if k != "name")
    return f"{schedule.get('name')}:{params}" if params else str(schedule.get("name"))


# Override key of ``with_overrides``: (config section, config key, the option that sets it); the
# registered settings' come from their declarations (``option_fields``).
OPTION_FIELDS = {
    "dataset": ("data", "dataset", "--dataset"),
    "path": ("data", "path", "--data"),
    "target": ("data", "target", "--target"),
    "features": ("data", "features", "--features"),
    "schedule": ("optimizer", "schedule", "--schedule"),
    "hidden": ("network", "hidden", "--hidden"),
    "activation": ("network", "activation", "--activation"),
    "optimizer": ("optimizer", "name", "--optimizer"),
}


def option_fields() -> dict[str, tuple[str, str, str]]:
    """``OPTION_FIELDS`` and every registered setting's (section, key, option)."""
    from ..experiments.settings import SETTINGS

    return {**OPTION_FIELDS, **{s.name: (s.section, s.name, s.flag) for s in SETTINGS.values() if s.flag}}


def setting_option(setting) -> click.Option:
    """The click option of a registered setting (``experiments.settings``)."""
    decls, attrs = _option_of(setting)
    return click.Option(decls, **attrs)


def option_of_setting(name: str):
    """A decorator adding registered setting ``name``'s option to a command that does not take
    them all (``TakesSettings``), as its declaration says."""
    from ..experiments.settings import SETTINGS

    decls, attrs = _option_of(SETTINGS[name])
    return click.option(*decls, **attrs)


def _option_of(setting) -> tuple[list[str], dict]:
    """A registered setting's option: its names and its click attributes."""

    def callback(ctx, param, value):
        if value is None or setting.cli_parse is None:
            return value
        try:
            return setting.cli_parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    kind = setting.cli_type
    if setting.cli_min is not None:
        kind = (click.IntRange if setting.cli_type is int else click.FloatRange)(min=setting.cli_min)
    return [setting.flag, setting.name], dict(type=kind, callback=callback, help=setting.cli_help)


class TakesSettings(OneLineUsageErrors):
    """A command that takes an option for every registered setting (``experiments.settings``),
    each after the option its declaration names (``Setting.cli_after``), the others after its option
    ``SETTINGS_AFTER``; its function gets them as keyword arguments."""

    SETTINGS_AFTER = "features"

    def get_params(self, ctx):
        from ..experiments.settings import SETTINGS, place, placed

        params = {p.name: p for p in super().get_params(ctx)}
        options = [s for s in SETTINGS.values() if s.flag]  # a setting without a flag has no option
        rest = [s for s in options if not place(s, "cli")]
        out = []
        for item in placed(params, [s for s in options if place(s, "cli")], where="cli"):
            out.append(params[item] if isinstance(item, str) else setting_option(item))
            if item == self.SETTINGS_AFTER:
                out += [setting_option(s) for s in rest]
        return out if len(out) == len(params) + len(options) else [*out, *map(setting_option, rest)]


def override_error(exc, given: dict) -> UserError:
    """A ``ConfigError`` from the command-line overrides, told in terms of the options given."""

    def text(problem) -> str:
        for key, (section, field, option) in option_fields().items():
            if key in given and problem.section == section and problem.field_name == field:
                if key == "schedule" and isinstance(given[key], dict):
                    return f"{option} {schedule_text(given[key])}: {problem.message}"
                if key == "features" and isinstance(given[key], list):
                    return f"{option} {','.join(map(str, given[key]))}: {problem.message}"
                value = repr(problem.value) if isinstance(problem.value, str) else problem.value
                index = problem.key.partition("[")[2].rstrip("]")
                items = given[key]
                if index.isdigit() and isinstance(items, list) and len(items) > 1:  # e.g. --hidden 8,100000
                    typed = ",".join(str(v) for v in items)
                    return f"{option} {typed}: item {int(index) + 1} ({value}): {problem.message}"
                return f"{option} {value}: {problem.message}"
        return str(problem)

    lines = [text(p) for p in exc.problems]
    if len(lines) == 1:
        only = lines[0]
        error = UserError(only if only.startswith("--") else f"{exc.source}: {only}")
    else:
        error = UserError(f"{exc.source}: {len(lines)} problems:" + "".join(f"\n  {line}" for line in lines))
    if lines and all(line.startswith("--") for line in lines):
        error.exit_code = 2  # every problem is an option's value: a usage error, as click's own checks
    return error


