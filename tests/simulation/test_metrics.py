"""The recorder's logs come out sorted as documented, whatever order they were logged in."""

import numpy as np
import pandas as pd

from simulation.metrics import Recorder


def _logged(chunks) -> pd.DataFrame:
    rec = Recorder(4, ["organic", "video", "search"], np.zeros(10, dtype=np.int64))
    for hour, source, ids in chunks:
        ids = np.asarray(ids)
        rec.log_touchpoints(hour, source, ids, np.ones(len(ids)), ids % 2 == 0)
    return rec.touchpoints(["organic", "video", "search"])


def test_touchpoints_are_sorted_by_hour_channel_consumer_as_pandas_sorts_them():
    chunks = [(2, 1, [5, 1]), (1, 2, [3, 4]), (1, 1, [9, 0, 9]), (2, 1, [0])]
    expected = pd.DataFrame({
        "consumer": np.concatenate([c[2] for c in chunks]).astype(np.int32),
        "hour": np.concatenate([[c[0]] * len(c[2]) for c in chunks]).astype(np.int32),
        "channel": pd.Categorical.from_codes(
            np.concatenate([[c[1]] * len(c[2]) for c in chunks]),
            categories=["organic", "video", "search"]),
    }).sort_values(["hour", "channel", "consumer"], kind="stable", ignore_index=True)
    table = _logged(chunks)
    pd.testing.assert_frame_equal(table[["consumer", "hour", "channel"]], expected)
    in_order = _logged([(0, 1, [1, 2]), (0, 2, [0]), (3, 0, [7])])  # as a run logs them
    assert in_order["consumer"].tolist() == [1, 2, 0, 7]
