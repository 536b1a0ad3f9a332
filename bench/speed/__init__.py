"""The rooms of bench/train_speed.py: `children` (one measurement in a fresh interpreter: the
tutorial's code, the platform tracked and untracked, the data load) and `render` (the
Markdown report). `bench/train_speed.py` is the command that runs them."""
