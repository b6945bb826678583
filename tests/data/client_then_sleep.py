"""Start a bridge, print the server's pid, then wait to be killed.

Arguments: the tests' folder, the mode, and "wine" for a server in the Windows Python
under Wine (over $BITBRIDGE_WINE_TRANSPORT).
"""

import sys
import time

sys.path.insert(0, sys.argv[1])
from bridges import Recorder

from bitbridge import server_info
from bitbridge.client.wine import find_windows_python

if sys.argv[3:] == ["wine"]:
    Recorder = Recorder.configure(python32=find_windows_python().command[-1])
bridge = Recorder()
print(server_info(bridge).pid, flush=True)
mode = sys.argv[2] if len(sys.argv) > 2 else "idle"
if mode == "exit-without-close":
    sys.exit(0)
if mode == "busy":
    bridge.sleep(600)  # killed while the server is inside this call
time.sleep(600)
