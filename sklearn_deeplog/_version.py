# SPDX-License-Identifier: BSD-3-Clause
"""The version of sklearn-deeplog, stored with every saved model.

0.2 changed what saved models hold (the miner's settings, the detectors' state),
so models saved by 0.1 are refused with a message rather than loaded wrong.
"""

__version__ = "0.2.0.dev0"
