"""Comm round trips through Debian's jupyter_client while a cell is running.

Run by test/kernel/comms-jupyter-client.e2e.test.ts with JUPYTER_PATH pointing at a temporary
prefix where the kernelspec was installed. The frontend opens a comm to a target a cell
registered, then sends messages with binary buffers while a 5 s cell runs; each reply must come
back on iopub before that cell's idle. Prints one JSON line with the round-trip times.
"""

import json
import sys
import time

from jupyter_client.manager import start_new_kernel

WAIT_S = 20

REGISTER = """
comms.register("py.echo", (comm, open) => {
  comm.send({ opened: open.data });
  comm.onMsg((m) => comm.send({ echo: m.data }, { seen: true }, [new Uint8Array(m.buffers[0] ?? []).reverse()]));
});
"""
LONG_CELL = 'console.log("cell started"); await new Promise((r) => setTimeout(r, 5000)); "cell done"'


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
        reply = kc.execute_interactive(REGISTER, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]

        cell_id = kc.execute(LONG_CELL)
        iopub_until(kc, "the long cell to start", lambda m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == cell_id)

        shell = kc.shell_channel.socket
        opened = kc.session.send(shell, "comm_open", {"comm_id": "py-1", "target_name": "py.echo", "data": {"from": "python"}})
        seen = iopub_until(kc, "the open handler's reply", lambda m: m["msg_type"] == "comm_msg")
        assert not any(is_idle_of(cell_id)(m) for m in seen), "the cell ended before the comm opened"
        assert seen[-1]["content"] == {"comm_id": "py-1", "data": {"opened": {"from": "python"}}}, seen[-1]["content"]
        assert seen[-1]["parent_header"]["msg_id"] == opened["header"]["msg_id"]

        times = []
        for i in range(20):
            t0 = time.perf_counter()
            sent = kc.session.send(shell, "comm_msg", {"comm_id": "py-1", "data": {"i": i}}, buffers=[bytes([i, 1, 2])])
            seen = iopub_until(kc, f"the echo of message {i}", lambda m: m["msg_type"] == "comm_msg" and m["parent_header"].get("msg_id") == sent["header"]["msg_id"])
            times.append((time.perf_counter() - t0) * 1000)
            assert not any(is_idle_of(cell_id)(m) for m in seen), f"echo {i} came after the cell ended"
            echo = seen[-1]
            assert echo["content"] == {"comm_id": "py-1", "data": {"echo": {"i": i}}}, echo["content"]
            assert echo["metadata"] == {"seen": True}, echo["metadata"]
            assert [bytes(b) for b in echo["buffers"]] == [bytes([2, 1, i])], echo["buffers"]

        info = kc.comm_info(target_name="py.echo", reply=True, timeout=WAIT_S)
        assert info["content"]["comms"] == {"py-1": {"target_name": "py.echo"}}, info["content"]

        iopub_until(kc, "the long cell's idle", is_idle_of(cell_id))
        reply = kc.get_shell_msg(timeout=WAIT_S)
        while reply["parent_header"].get("msg_id") != cell_id:
            reply = kc.get_shell_msg(timeout=WAIT_S)
        assert reply["content"]["status"] == "ok", reply["content"]

        kc.session.send(shell, "comm_close", {"comm_id": "py-1", "data": {}})
        info = kc.comm_info(reply=True, timeout=WAIT_S)
        assert info["content"]["comms"] == {}, info["content"]
        times.sort()
        print(json.dumps({"ok": True, "p50_ms": times[len(times) // 2], "max_ms": times[-1]}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


if __name__ == "__main__":
    sys.exit(main())
