r"""A small multilayer perceptron in numpy: forward, backward, input gradient, and the
parameter gradient of the gradient penalty (double backpropagation written out).

The network, with :math:`\sigma = \tanh` (smooth, so the penalty's gradient exists
everywhere) and rows as samples:

.. math:: a_0 = x,\quad z_k = a_{k-1} W_k + c_k,\quad a_k = \sigma(z_k)
          \ (k = 1..L),\qquad f(x) = a_L w + c.

Its gradient in the input (the *backward pass*, as vectors :math:`u_k = \partial f /
\partial a_k`):

.. math:: u_L = w,\quad \delta_k = u_k \odot \sigma'(z_k),\quad u_{k-1} = \delta_k W_k^T,
          \qquad \nabla_x f = u_0.

The gradient penalty :math:`R = \lambda\,\frac1B \sum_b (\|u_{0,b}\| - 1)^2` depends on
the parameters through both passes; its parameter gradient is the reverse of the
backward pass (adjoints :math:`\bar u_k`, :math:`\bar\delta_k`), then the reverse of the
forward pass driven by the adjoints :math:`\bar z_k` this leaves:

.. math:: \bar u_0 = \frac{2\lambda}{B} (\|u_0\| - 1) \frac{u_0}{\|u_0\|},\quad
          \bar\delta_k = \bar u_{k-1} W_k,\quad \bar W_k \mathrel{+}= \bar u_{k-1}^T \delta_k,

.. math:: \bar u_k = \bar\delta_k \odot \sigma'(z_k),\quad
          \bar z_k \mathrel{+}= \bar\delta_k \odot u_k \odot \sigma''(z_k),
          \quad \bar w = \textstyle\sum_b \bar u_{L,b},

then for :math:`k = L..1`: :math:`\bar W_k \mathrel{+}= a_{k-1}^T \bar z_k`,
:math:`\bar c_k = \sum_b \bar z_{k,b}`,
:math:`\bar z_{k-1} \mathrel{+}= (\bar z_k W_k^T) \odot \sigma'(z_{k-1})`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["init_params", "forward", "value_gradients", "penalty_and_gradients"]


def init_params(rng, sizes):
    """Glorot-normal weights, zero biases; ``sizes = (d, h_1, ..., h_L)``. The parameters
    are a flat list ``[W_1, c_1, ..., W_L, c_L, w, c]`` (``w`` of shape (h_L,), ``c`` a
    0-d array)."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        params.append(rng.normal(size=(fan_in, fan_out)) * np.sqrt(2.0 / (fan_in + fan_out)))
        params.append(np.zeros(fan_out))
    params.append(rng.normal(size=sizes[-1]) * np.sqrt(2.0 / (sizes[-1] + 1)))
    params.append(np.zeros(()))
    return params


def _layers(params):
    """``([(W_k, c_k)], w, c)``."""
    hidden = [(params[i], params[i + 1]) for i in range(0, len(params) - 2, 2)]
    return hidden, params[-2], params[-1]


def forward(params, x):
    """``(f, acts, zs)``: the values ``f`` (B,), the activations ``[a_0 .. a_L]`` and the
    pre-activations ``[z_1 .. z_L]``."""
    hidden, w, c = _layers(params)
    acts, zs = [x], []
    for W, b in hidden:
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(np.tanh(z))
    return acts[-1] @ w + c, acts, zs


def value_gradients(params, x, weight):
    r"""Parameter gradients of :math:`\sum_b \text{weight}_b f(x_b)` (ordinary
    backpropagation), a list shaped as ``params``; also returns ``f``."""
    hidden, w, _ = _layers(params)
    f, acts, zs = forward(params, x)
    grads = [None] * len(params)
    grads[-2] = acts[-1].T @ weight
    grads[-1] = np.asarray(weight.sum())
    back = np.outer(weight, w)  # d/d a_L
    for k in range(len(hidden) - 1, -1, -1):
        dz = back * (1.0 - acts[k + 1] ** 2)
        grads[2 * k] = acts[k].T @ dz
        grads[2 * k + 1] = dz.sum(axis=0)
        if k:
            back = dz @ hidden[k][0].T
    return grads, f


def input_gradient(params, x):
    r""":math:`\nabla_x f` (B, d) by the backward pass, with what the penalty's reverse
    pass needs: ``(u0, acts, zs, us, deltas)``."""
    hidden, w, _ = _layers(params)
    _, acts, zs = forward(params, x)
    us = [None] * (len(hidden) + 1)
    deltas = [None] * (len(hidden) + 1)
    us[-1] = np.broadcast_to(w, acts[-1].shape)
    for k in range(len(hidden), 0, -1):
        deltas[k] = us[k] * (1.0 - acts[k] ** 2)
        us[k - 1] = deltas[k] @ hidden[k - 1][0].T
    return us[0], acts, zs, us, deltas


def penalty_and_gradients(params, x, penalty):
    r"""The two-sided gradient penalty
    :math:`R = \lambda \frac1B \sum_b (\|\nabla_x f(x_b)\| - 1)^2` at the points ``x``
    and its parameter gradients (double backpropagation, see the module docstring).
    Returns ``(R, grads, norms)``."""
    hidden, _, _ = _layers(params)
    L = len(hidden)
    u0, acts, zs, us, deltas = input_gradient(params, x)
    norms = np.sqrt(np.einsum("bd,bd->b", u0, u0))
    B = x.shape[0]
    R = penalty * float(np.mean((norms - 1.0) ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.where(norms[:, None] > 0, u0 / norms[:, None], 0.0)
    ubar = (2.0 * penalty / B) * (norms - 1.0)[:, None] * unit
    grads = [np.zeros_like(p) for p in params]
    zbar = [None] * (L + 1)
    # reverse of the backward pass, k = 1..L
    for k in range(1, L + 1):
        W = hidden[k - 1][0]
        dbar = ubar @ W
        grads[2 * (k - 1)] += ubar.T @ deltas[k]
        t = acts[k]
        s1 = 1.0 - t * t  # tanh'
        s2 = -2.0 * t * s1  # tanh''
        zbar[k] = dbar * us[k] * s2
        ubar = dbar * s1
    grads[-2] += ubar.sum(axis=0)  # u_L = w for every sample
    # reverse of the forward pass, k = L..1 (f itself is not in R: no a_L adjoint)
    for k in range(L, 0, -1):
        W = hidden[k - 1][0]
        grads[2 * (k - 1)] += acts[k - 1].T @ zbar[k]
        grads[2 * (k - 1) + 1] += zbar[k].sum(axis=0)
        if k > 1:
            zbar[k - 1] = zbar[k - 1] + (zbar[k] @ W.T) * (1.0 - acts[k - 1] ** 2)
    return R, grads, norms
