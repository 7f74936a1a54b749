"""Counted nouns in what the app and the CLI print."""

from tui_trainer.engine.datasets import load_dataset
from tui_trainer.wording import plural


def test_plural_counts_one_in_the_singular_and_others_in_the_plural():
    assert [plural(n, "feature") for n in (0, 1, 2)] == ["0 features", "1 feature", "2 features"]
    assert plural(1, "class", "classes") == "1 class"
    assert plural(3, "class", "classes") == "3 classes"


def test_the_config_pane_describes_a_one_feature_dataset_in_the_singular():
    from tui_trainer.config import ExperimentConfig, with_overrides
    from tui_trainer.tui.widgets.config_pane import ConfigPane

    config = with_overrides(ExperimentConfig(), dataset="sine")
    dataset = load_dataset("sine")
    pane = ConfigPane(config, dataset=dataset)
    assert pane._data_facts() == f"{len(dataset.X)} samples x 1 feature, regression"
