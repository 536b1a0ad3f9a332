"""Lets `python -m rnn_tracking train ...` run the CLI."""

import sys

from rnn_tracking.cli import main

sys.exit(main())
