"""Optimizer lab screens: race, learning-rate sweep, loss surfaces (registered in ``views``)."""
