"""Figure 1 of the WGAN paper from samples: W1 and JS between two parallel segments."""

import os

import numpy as np

from divergences.demo import plot_sweep, sweep

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "generated")

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    plot_sweep(sweep(np.linspace(-1, 1, 41), n=200, seed=0), os.path.join(OUT, "segments.png"))
