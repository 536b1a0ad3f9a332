"""This platform's sweep against Keras Tuner's Hyperband and plain Optuna, on the same clock.

The documented entry script of the bench in `bench/peers/` (its docstring says what each side
does and how to run it):

    PYTHONPATH=$PWD .venv/bin/python bench/search_vs_peers.py --short
"""

import sys
from pathlib import Path

# Run as a script, Python puts bench/ on the path, not the project folder the package is in.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.peers.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
