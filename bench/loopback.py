"""What the loopback benchmarks share: free ports, waiting for a listener, a
private Mosquitto, stopping a child process, and a process's I/O counters."""
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def proc_io(pid):
    """/proc/PID/io as a dict of ints (write_bytes, cancelled_write_bytes, ...)."""
    fields = {}
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = int(value)
    return fields


def write_broker_config(path, port):
    """A Mosquitto on 127.0.0.1:port without persistence (as root it must be told to stay root)."""
    user = "user root\n" if os.geteuid() == 0 else ""
    with open(path, "w") as f:
        f.write(f"{user}listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")


def start_broker(conf, port):
    broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return broker


def stop(p):
    """SIGTERM, then SIGKILL after 10 s."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
