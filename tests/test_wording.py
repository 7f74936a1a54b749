"""Counted nouns in what the app and the CLI print."""

import asyncio

from tui_trainer.engine.datasets import load_dataset
from tui_trainer.experiments.wording import plural


def test_plural_counts_one_in_the_singular_and_others_in_the_plural():
    assert [plural(n, "feature") for n in (0, 1, 2)] == ["0 features", "1 feature", "2 features"]
    assert plural(1, "class", "classes") == "1 class"
    assert plural(3, "class", "classes") == "3 classes"


def test_the_config_pane_describes_a_one_feature_dataset_in_the_singular():
    from tests.test_app import settings_ready
    from tui_trainer.experiments.config import with_overrides
    from tui_trainer.experiments.session import default_config
    from tui_trainer.tui.app import NNTuiApp

    dataset = load_dataset("sine")

    async def scenario() -> str:
        app = NNTuiApp(with_overrides(default_config(), dataset="sine"))
        async with app.run_test(size=(120, 36)) as pilot:
            await settings_ready(pilot, app)
            return str(app.screen.query_one("#data-facts").render())

    assert asyncio.run(scenario()) == f"{len(dataset.X)} samples x 1 feature, regression"
