# SPDX-License-Identifier: BSD-3-Clause
"""``python -m sklearn_deeplog``: the command line."""

import sys

from ._cli import main

sys.exit(main())
