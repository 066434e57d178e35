"""Every PE prints as fast as it can for FLOOD_S seconds (work started by one cell, left running),
while a frontend goes on using the kernel through jupyter_client: kernel_info on control and on
shell, and small cells. Counts every byte of stream output on iopub, the kernel's resident memory
(sampled) and each request's latency. Prints one JSON line for the TypeScript test to check.

Run by test/kernel/output-flood-jupyter-client.e2e.test.ts with JUPYTER_PATH at the kernelspec."""
import json
import sys
import threading
import time

from jupyter_client.manager import KernelManager

FLOOD_S = float(sys.argv[1])
km = KernelManager(kernel_name="charm4ts")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=120)
pid = km.provisioner.process.pid

stream_bytes = 0
stderr_text = ""
idle = {}
lock = threading.Condition()
stop = False


def rss_mb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def drain_iopub():
    """Counts stream output whatever its parent (late output of the flood's cell included)."""
    global stream_bytes, stderr_text
    while not stop:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except Exception:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            stream_bytes += len(msg["content"]["text"].encode())
            if msg["content"]["name"] == "stderr":
                stderr_text += msg["content"]["text"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            with lock:
                idle[msg["parent_header"].get("msg_id")] = True
                lock.notify_all()


def execute(code, timeout=120):
    """Runs a cell; returns (reply content, ms) once its reply and its idle both came."""
    started = time.monotonic()
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    with lock:
        if not lock.wait_for(lambda: msg_id in idle, timeout=timeout):
            raise RuntimeError(f"no idle for {code!r}")
    return reply["content"], (time.monotonic() - started) * 1000


def kernel_info(channel):
    started = time.monotonic()
    if channel == "control":
        msg = kc.session.msg("kernel_info_request")
        kc.control_channel.send(msg)
        reply = kc.get_control_msg(timeout=30)
    else:
        kc.kernel_info()
        reply = kc.get_shell_msg(timeout=30)
    assert reply["msg_type"] == "kernel_info_reply", reply["msg_type"]
    return (time.monotonic() - started) * 1000


drainer = threading.Thread(target=drain_iopub, daemon=True)
drainer.start()
peak = 0.0
sampling = True


def sample():
    global peak
    while sampling:
        peak = max(peak, rss_mb())
        time.sleep(0.05)  # sampling memory, not ordering anything


try:
    warm, _ = execute("class Warm extends Chare { hi() { console.log('warm'); } }\nawait charm.array(Warm, charm.numPes()).hi.awaitable();")
    assert warm["status"] == "ok", warm
    before = rss_mb()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    flood_ms = int(FLOOD_S * 1000)
    # The flood's cell awaits its PEs' printing (a cell ends once its work's output has landed;
    # it used to last that long only by waiting for its declarations to reach the busy PEs);
    # meanwhile control requests are answered at once, shell requests wait their turn.
    flood_id = kc.execute(
        "class Flood extends Chare {\n"
        "  spin(ms: number): number {\n"
        "    const start = Date.now();\n"
        "    let n = 0;\n"
        "    while (Date.now() - start < ms) console.log('flood line', n++, 'from PE', charm.myPe());\n"
        "    return n;\n"
        "  }\n"
        "}\n"
        "const floods = charm.array(Flood, charm.numPes());\n"
        f"await floods.spin.awaitable({flood_ms});"
    )
    info_ms = []
    while time.monotonic() - started < FLOOD_S - 1:
        info_ms.append(kernel_info("control"))
    flood = kc.get_shell_msg(timeout=120)
    assert flood["parent_header"]["msg_id"] == flood_id and flood["content"]["status"] == "ok", flood["content"]
    with lock:
        assert lock.wait_for(lambda: flood_id in idle, timeout=120), "no idle after the flood"
    duration_ms = (time.monotonic() - started) * 1000
    content, cell_ms = execute("40 + 2", timeout=30)
    info_ms.append(kernel_info("shell"))
    sampling = False
    stop = True
    drainer.join()
    print(json.dumps({
        "streamBytes": stream_bytes, "durationMs": duration_ms, "infoMs": info_ms, "afterMs": cell_ms, "after": content["status"],
        "rssBeforeMb": before, "rssPeakMb": peak, "stderr": stderr_text[-4000:],
    }))
finally:
    stop = True
    kc.stop_channels()
    km.shutdown_kernel(now=False)
