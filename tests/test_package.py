# SPDX-License-Identifier: BSD-3-Clause
"""The package as a whole: importing it is quick, torch loads only when needed,
its citation names its version."""

import re
import subprocess
import sys
from pathlib import Path

import sklearn_deeplog


def test_importing_the_package_does_not_import_torch():
    code = (
        "import sys\n"
        "import sklearn_deeplog, sklearn_deeplog.io\n"
        "sklearn_deeplog.DeepLog().get_params()\n"
        "sklearn_deeplog.DeepLogDetector().get_params()\n"
        "sklearn_deeplog.ParameterValueDetector().get_params()\n"
        "loaded = {'torch', 'skorch'} & set(sys.modules)\n"
        "assert not loaded, f'importing sklearn_deeplog imported {loaded}'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_citation_file_names_the_package_version():
    citation = Path(__file__).resolve().parents[1] / "CITATION.cff"
    versions = re.findall(r"^version: (\S+)$", citation.read_text(), re.MULTILINE)
    assert versions == [sklearn_deeplog.__version__]
