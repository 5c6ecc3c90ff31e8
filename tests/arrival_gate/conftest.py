"""The arrival gate's module (lambdas/arrival_gate/arrival_gate.py) is importable as the Lambda
runtime imports it: from its own folder."""

import sys

from dwh_tools.arrival_manifest import GATE_DIR

if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))
