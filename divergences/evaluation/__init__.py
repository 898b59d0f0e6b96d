"""Evaluating learned distances: the WGAN critic, trained in numpy and certified against
the exact Wasserstein distance."""

from .critic import CriticResult, coupling_upper_bound, lipschitz_constant, wgan_critic

__all__ = ["CriticResult", "coupling_upper_bound", "lipschitz_constant", "wgan_critic"]
