"""Start a bridge, print the server's pid, then wait to be killed."""

import sys
import time

sys.path.insert(0, sys.argv[1])
from bridges import Recorder

from bitbridge import server_info

bridge = Recorder()
print(server_info(bridge).pid, flush=True)
mode = sys.argv[2] if len(sys.argv) > 2 else "idle"
if mode == "exit-without-close":
    sys.exit(0)
if mode == "busy":
    bridge.sleep(600)  # killed while the server is inside this call
time.sleep(600)
