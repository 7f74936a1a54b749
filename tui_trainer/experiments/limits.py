"""Limits on every count a user can type for the network, the training and the lab: one place
for the numbers, read by config validation, the command line and the memory budget. (The
engine's own limits, on data sizes and model files, live in the engine modules that check them.)"""

MAX_HIDDEN_WIDTH = 4096
"""Most nodes in one hidden layer."""
MAX_HIDDEN_LAYERS = 32
"""Most hidden layers."""
MAX_EPOCHS = 10**12
"""Most epochs in one run: far more than anyone waits for, and a saved epoch count stays exact
(below 2**53) however often a run is resumed for that long again."""
MAX_BATCH_SIZE = 10_000_000
"""Largest batch size (a batch larger than the training set is the whole set)."""
MAX_SEED = 2**63 - 1
"""Largest seed: the largest integer a TOML file holds, so a saved config always loads back."""

MAX_LAB_EPOCHS = 100_000
"""Most epochs per lane in ``nn-tui compare`` and per rate in ``nn-tui sweep``."""
MAX_SWEEP_POINTS = 200
"""Most learning rates one ``nn-tui sweep`` tries."""
MAX_SURFACE_STEPS = 100_000
"""Most updates per path in ``nn-tui surface``."""
MAX_LANES = 16
"""Most lanes in one race (optimizers, learning rates or batch modes given as a list)."""
MAX_MATRIX_SEEDS = 100
"""Most seeds per cell of the optimizer matrix (``nn-tui compare --datasets --seeds``)."""
MATRIX_SEEDS = 5
"""Seeds per cell of the optimizer matrix by default: fewer and one lucky seed decides the winner."""
