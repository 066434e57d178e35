"""Widgets through Debian's jupyter_client while a 10 s cell is running.

Run by test/kernel/comms-jupyter-client.e2e.test.ts with JUPYTER_PATH pointing at a temporary
prefix where the kernelspec was installed. This script plays the classic Notebook's widget
manager (widget protocol 1): it opens the version comm, a cell makes a slider and a label whose
text follows the slider, and while a 10 s cell runs the script moves the slider 20 times; each
move must reach the kernel's onChange during the cell, which shows it by updating the label (an
update on the label's comm, a child of the script's message, before the cell's idle). Prints one
JSON line with the times from a move to the label's update.
"""

import json
import sys
import time

from jupyter_client.manager import start_new_kernel

WAIT_S = 20

SETUP = """
const speed = widgets.IntSlider({ min: 0, max: 100, value: 0, description: "speed" });
const seen = widgets.Label({ value: "none yet" });
const moves: number[] = [];
speed.onChange((v) => { moves.push(v); seen.value = `seen ${v}`; });
display(widgets.VBox([speed, seen]));
"""
LONG_CELL = 'console.log("cell started"); await new Promise((r) => setTimeout(r, 10000)); moves.join(",")'


def iopub_until(kc, what, match):
    """The iopub messages up to and including the first that `match` accepts."""
    seen = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=WAIT_S)
        seen.append(msg)
        if match(msg):
            return seen
    raise AssertionError(f"timed out waiting for {what}")


def is_idle_of(msg_id):
    return lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" and m["parent_header"].get("msg_id") == msg_id


def main():
    km, kc = start_new_kernel(kernel_name="charm4ts", startup_timeout=60)
    try:
        shell = kc.shell_channel.socket
        # What the extension does on connecting: the version handshake.
        kc.session.send(shell, "comm_open", {"comm_id": "version", "target_name": "jupyter.widget.version", "data": {}})
        answer = iopub_until(kc, "the kernel's version range", lambda m: m["msg_type"] == "comm_msg")[-1]
        assert answer["content"]["data"] == {"version": "~2.1.4"}, answer["content"]
        kc.session.send(shell, "comm_msg", {"comm_id": "version", "data": {"validated": True, "frontend_version": "2.1.4"}})

        setup_id = kc.execute(SETUP)
        seen = iopub_until(kc, "the setup cell's idle", is_idle_of(setup_id))
        opens = {m["content"]["data"]["_model_name"]: m["content"] for m in seen if m["msg_type"] == "comm_open"}
        assert set(opens) == {"IntSliderModel", "LabelModel", "VBoxModel"}, list(opens)
        slider = opens["IntSliderModel"]["comm_id"]
        label = opens["LabelModel"]["comm_id"]
        assert opens["VBoxModel"]["data"]["children"] == [f"IPY_MODEL_{slider}", f"IPY_MODEL_{label}"]
        displayed = [m for m in seen if m["msg_type"] == "comm_msg" and m["content"]["data"] == {"method": "display"}]
        assert [m["parent_header"]["msg_id"] for m in displayed] == [setup_id], displayed

        cell_id = kc.execute(LONG_CELL)
        iopub_until(kc, "the long cell to start", lambda m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == cell_id)
        times = []
        for value in range(1, 21):
            t0 = time.perf_counter()
            sent = kc.session.send(shell, "comm_msg", {"comm_id": slider, "data": {"method": "backbone", "sync_data": {"value": value}}})
            msg_id = sent["header"]["msg_id"]
            seen = iopub_until(kc, f"the label's update for move {value}", lambda m: m["msg_type"] == "comm_msg" and m["parent_header"].get("msg_id") == msg_id)
            times.append((time.perf_counter() - t0) * 1000)
            assert not any(is_idle_of(cell_id)(m) for m in seen), f"move {value} was seen after the cell ended"
            update = seen[-1]["content"]
            assert update == {"comm_id": label, "data": {"method": "update", "state": {"value": f"seen {value}"}, "buffers": []}}, update
            # The frontend's throttle waits for this idle before it sends the next move.
            iopub_until(kc, f"the idle of move {value}", is_idle_of(msg_id))

        iopub_until(kc, "the long cell's idle", is_idle_of(cell_id))
        reply = kc.get_shell_msg(timeout=WAIT_S)
        while reply["parent_header"].get("msg_id") != cell_id:
            reply = kc.get_shell_msg(timeout=WAIT_S)
        assert reply["content"]["status"] == "ok", reply["content"]
        info = kc.comm_info(target_name="jupyter.widget", reply=True, timeout=WAIT_S)
        assert set(info["content"]["comms"]) == {slider, label, opens["VBoxModel"]["comm_id"]}, info["content"]
        times.sort()
        print(json.dumps({"ok": True, "p50_ms": times[len(times) // 2], "max_ms": times[-1]}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    sys.exit(main())
