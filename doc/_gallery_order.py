# SPDX-License-Identifier: BSD-3-Clause
"""The order of the gallery's examples: from first steps to advanced."""

ORDER = [
    "plot_synthetic_logs.py",  # first steps, on generated logs
    "plot_hdfs.py",  # the paper's experiment
    "plot_raw_logs.py",  # from raw log lines
    "plot_grid_search.py",  # tuning
    "plot_false_alarms.py",  # thresholds
    "plot_online_update.py",  # updates
    "plot_parameter_values.py",  # the value model
    "plot_diagnosis.py",  # workflows
]


class GalleryOrder:
    """A sort key of sphinx-gallery: an example's place in :data:`ORDER`.

    Parameters
    ----------
    src_dir : str
        The gallery's directory (unused: the order is by file name).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename not in ORDER:
            raise ValueError(f"{filename} is not in doc/_gallery_order.py: add it.")
        return ORDER.index(filename)

    def __repr__(self):  # sphinx-gallery keeps it in its configuration
        return f"{type(self).__name__}()"
