"""Placeholder: replaced by the issue that builds this module."""


def sliced_wasserstein(*args, **kwargs):
    raise NotImplementedError("sliced_wasserstein is not implemented yet")


def wasserstein_1d(*args, **kwargs):
    raise NotImplementedError("wasserstein_1d is not implemented yet")


def _transport_1d(*args, **kwargs):
    raise NotImplementedError("_transport_1d is not implemented yet")

