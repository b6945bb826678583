"""Start a bridge, get interrupted by SIGINT in a long call, and report what happens."""

import sys

sys.path.insert(0, sys.argv[1])
from bridges import Recorder

from bitbridge import BridgeClosed, server_info

bridge = Recorder()
first_pid = server_info(bridge).pid
print(first_pid, flush=True)
try:
    bridge.sleep(30)
    print("not interrupted")
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
try:
    bridge.pid()
except BridgeClosed as exc:
    print("BridgeClosed:", str(exc).splitlines()[0], flush=True)
bridge.restart()
print("restarted", bridge.pid() != first_pid, bridge.pointer_size(), flush=True)
bridge.close()
