"""Start a bridge, print the server's pid, then wait to be killed."""

import sys
import time

sys.path.insert(0, sys.argv[1])
from bridges import Recorder

from bitbridge import server_info

bridge = Recorder()
print(server_info(bridge).pid, flush=True)
if len(sys.argv) > 2 and sys.argv[2] == "exit-without-close":
    sys.exit(0)
time.sleep(600)
