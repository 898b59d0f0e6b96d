"""Warnings raised by the solvers."""


class ConvergenceWarning(UserWarning):
    """A solver stopped before meeting its stopping rule; the message says what to change."""
