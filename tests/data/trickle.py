# trickle.py IN OUT CMD...: CMD reads IN through a pipe of 4 kB, 4 kB a write
import fcntl, os, subprocess, sys
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)      # F_SETPIPE_SZ
with open(sys.argv[2], "wb") as o:
    p = subprocess.Popen(sys.argv[3:], stdin=r, stdout=o)
os.close(r)
data = open(sys.argv[1], "rb").read()
try:
    for i in range(0, len(data), 4096):
        os.write(w, data[i:i + 4096])
except BrokenPipeError:
    pass
os.close(w)
sys.exit(p.wait())
