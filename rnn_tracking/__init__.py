"""rnn-tracking: MLflow-tracked experiments with recurrent IMDB text classifiers."""

__version__ = "0.1.0"
