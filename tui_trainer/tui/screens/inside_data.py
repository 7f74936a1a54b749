"""Data: what the network is given, before and after preprocessing.

The dataset's shape and split, a few rows with the raw label beside its one-hot target, the
class counts, and each feature's mean and standard deviation on the training split before and
after standardization (mean 0, std 1 after, by construction).
"""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult

from ...engine.numbers import significant
from ...engine.text import visible
from ...engine.preprocess import encode_targets
from ...experiments.session import Snapshot
from ...experiments.wording import plural
from .inside_base import InsideScreen

ROWS = 5
"""Rows of the dataset shown."""
MAX_FEATURES = 4
"""Feature columns shown in the rows table."""
MAX_STAT_ROWS = 100
"""Features the statistics table shows (the first ones; a line says how many more there are)."""
MAX_NAMES = 20
"""Feature names the heading lists."""
INLINE_CELLS = 200_000
"""A dataset of at most this many values (and ``MAX_STAT_ROWS`` features) is described at once; a
larger one on a thread, so the app answers meanwhile."""


class DataScreen(InsideScreen):
    """The dataset and its preprocessing."""

    VIEW_TITLE = "Data"

    def compose_view(self) -> ComposeResult:
        yield from self.scrolling_text("data")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#data-scroll").focus()

    def draw(self, snap: Snapshot) -> None:
        experiment = self.session.experiment
        if getattr(self, "_drawn_for", None) is experiment:
            return  # the data does not change while training
        self._drawn_for = experiment
        X = experiment.data.dataset.X
        if X.size <= INLINE_CELLS and X.shape[1] <= MAX_STAT_ROWS:
            self.update_text("#data-body", self.content(experiment))
            return
        self.update_text("#data-body", Text(f"Describing {visible(experiment.data.dataset.name, 60)}...", style="dim"))
        self._describe(experiment)

    @work(thread=True, exclusive=True, group="data-view", exit_on_error=False)
    def _describe(self, experiment) -> None:
        """On a worker thread: the description of a large dataset, shown when ready."""
        content = self.content(experiment)
        self.app.call_from_thread(self._described, experiment, content)

    def _described(self, experiment, content: Group) -> None:
        if self.is_attached and getattr(self, "_drawn_for", None) is experiment:
            self.update_text("#data-body", content)

    def content(self, experiment=None) -> Group:
        """The view's text for ``experiment`` (the session's by default); every name from the
        data (its file's, its headers, its labels) shown through ``visible``."""
        self._experiment = experiment or self.session.experiment
        d = self._experiment.data
        ds = d.dataset
        n, k = ds.X.shape
        head = Text()
        head.append(visible(ds.name, 80), style="bold")
        head.append(f": {plural(n, 'sample')} x {plural(k, 'feature')}, {ds.problem}")
        if ds.problem != "regression":
            head.append(f", {ds.num_classes} classes")
        head.append(f"\ntrain {len(d.X_train)} · validation {len(d.X_val)} "
                    f"(val_split {self.session.config.data.val_split:g}"
                    f"{', stratified by class' if ds.problem != 'regression' else ''})\n")
        if d.features is not None:
            head.append(f"network inputs: {_names(d.feature_names)} "
                        f"({plural(d.n_inputs, 'feature')} computed from {_names(ds.feature_names)})\n")
        if ds.description:
            head.append(f"{visible(ds.description, 300)}\n", style="dim")
        parts: list = [head, _title("first rows: raw features, label, the target the network sees"), self._rows()]
        if ds.problem != "regression":
            parts += [_title("\nclass counts"), self._counts()]
        parts += [_title("\nfeatures (training split) before -> after standardizing: (x - mean) / std"),
                  self._stats()]
        return Group(*parts)

    def _rows(self) -> Table:
        d = self._experiment.data
        ds = d.dataset
        X = ds.X[:ROWS]
        Z = d.inputs(X)
        Y = encode_targets(ds, ds.y[:ROWS])
        shown = min(ds.X.shape[1], MAX_FEATURES)
        more = ds.X.shape[1] > shown
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
        table.add_column("#", justify="right", style="dim")
        for j in range(shown):
            table.add_column(visible(ds.feature_names[j], 10), justify="right")
        if more:
            table.add_column("…")
        if ds.problem == "regression":
            table.add_column(visible(ds.target_name, 12), justify="right")
        else:
            table.add_column("label")
            table.add_column("one-hot" if ds.problem == "multiclass" else "target")
        table.add_column("standardized" if d.features is None else
                         "inputs " + " ".join(visible(f, 10) for f in d.feature_names[:3]), style="cyan")
        for i in range(len(X)):
            cells = [str(i), *(significant(v) for v in X[i, :shown])] + (["…"] if more else [])
            if ds.problem == "regression":
                cells.append(significant(float(np.ravel(ds.y[i])[0])))
            else:
                label = int(ds.y[i])
                cells.append(visible(f"{label} {ds.class_names[label]}", 16))
                cells.append("[" + " ".join(f"{v:g}" for v in Y[i]) + "]")
            z = " ".join(f"{v:+.2f}" for v in Z[i, :3]) + (" …" if d.n_inputs > 3 else "")
            cells.append(z)
            table.add_row(*cells)
        return table

    def _counts(self) -> Table:
        d = self._experiment.data
        ds = d.dataset
        table = Table(box=None, padding=(0, 1), show_edge=False, header_style="dim")
        for col in ("class", "train", "val", "total", ""):
            table.add_column(col, justify="left" if col == "class" else "right")
        train = np.bincount(d.y_train.astype(int), minlength=ds.num_classes)
        val = np.bincount(d.y_val.astype(int), minlength=ds.num_classes)
        top = max(1, int((train + val).max()))
        for c, name in enumerate(ds.class_names):
            total = int(train[c] + val[c])
            bar = "█" * max(1, round(total / top * 12)) if total else ""
            table.add_row(visible(f"{c} {name}", 18), str(int(train[c])), str(int(val[c])), str(total),
                          Text(bar.ljust(12), style="cyan"))
        return table

    def _stats(self) -> Table:
        d = self._experiment.data
        std = d.standardizer
        shown = min(len(d.feature_names), MAX_STAT_ROWS)
        X = d.X_train[:, :shown]
        raw = X * std.std[:shown] + std.mean[:shown]  # the training split before standardization
        table = Table(box=None,
                      padding=(0, 1), show_edge=False, header_style="dim")
        for col in ("feature", "mean", "std", "->", "mean", "std"):
            table.add_column(col, justify="left" if col == "feature" else "right")
        after_mean, after_std = X.mean(axis=0), X.std(axis=0)
        for j, name in enumerate(d.feature_names[:shown]):
            table.add_row(visible(name, 16), significant(raw[:, j].mean()), significant(raw[:, j].std()), "->",
                          significant(_clean(after_mean[j])), significant(after_std[j]))
        if len(d.feature_names) > shown:
            table.add_row(Text(f"... and {len(d.feature_names) - shown:,} more (the first {shown} shown)",
                               style="dim"), "", "", "", "", "")
        return table


def _names(names) -> str:
    """The first ``MAX_NAMES`` names, each through ``visible``, and how many more."""
    shown = ", ".join(visible(name, 24) for name in names[:MAX_NAMES])
    return shown + (f", ... ({len(names):,} in all)" if len(names) > MAX_NAMES else "")


def _title(text: str) -> Text:
    return Text(text, style="bold")


def _clean(v: float) -> float:
    """-1e-17 -> 0: a mean that is zero up to rounding reads as 0."""
    return 0.0 if abs(v) < 1e-12 else float(v)
