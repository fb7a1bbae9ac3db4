"""The public credit data sets Tenor trains and evaluates its scorecards on (see README.md).

Each data set is a frame of applicant characteristics and a 0/1 array, 1 for a bad outcome.
"""

from __future__ import annotations

import csv
import hashlib
from enum import StrEnum
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd


class Dataset(StrEnum):
    """A data set shipped in this package."""

    GERMAN_CREDIT = "german-credit"
    CREDIT_DATA = "credit-data"


_FILES = {
    Dataset.GERMAN_CREDIT: ("german_credit.csv", "creditability"),
    Dataset.CREDIT_DATA: ("credit_data.csv", "Status"),
}


def load(dataset: Dataset) -> tuple[pd.DataFrame, np.ndarray]:
    """The characteristics of ``dataset``'s applicants and their outcomes (1 = bad)."""
    name, target = _FILES[dataset]
    with files(__package__).joinpath(name).open("rb") as handle:
        frame = pd.read_csv(handle)
    outcome = (frame.pop(target) == "bad").astype(np.int64).to_numpy()
    return frame, outcome


@cache
def characteristics_of(dataset: Dataset) -> tuple[str, ...]:
    """The characteristics (columns but the outcome) of ``dataset``'s applicants, in order."""
    name, target = _FILES[dataset]
    with files(__package__).joinpath(name).open("r", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    return tuple(column for column in header if column != target)


def data_hash(frame: pd.DataFrame, outcome: np.ndarray) -> str:
    """SHA-256 of the training data as it was fitted (rows, columns and outcomes)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(np.asarray(outcome, dtype=np.int64).tobytes())
    return digest.hexdigest()
