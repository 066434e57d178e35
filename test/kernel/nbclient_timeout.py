"""A grader's loop through nbclient with one kernel kept for several notebooks: a student's cell
stuck in a loop (in the cell, or on a PE) hits ExecutePreprocessor's timeout, nbclient interrupts
the kernel, and the next student's notebook runs on the same kernel. Prints one JSON line with
each notebook's code-cell outputs (text and error names) for the TypeScript test to check.

Run by test/kernel/nbconvert-timeout.e2e.test.ts with JUPYTER_PATH pointing at the kernelspec."""
import json
import sys

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient


def notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "charm4ts", "display_name": "TypeScript (charm4ts)", "language": "typescript"}
    return nb


def outputs(nb):
    cells = []
    for cell in nb.cells:
        text, errors = "", []
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text += out.text
            elif out.output_type == "error":
                errors.append(out.ename)
            elif out.output_type == "execute_result":
                text += out.data.get("text/plain", "") + "\n"
        cells.append({"text": text, "errors": errors})
    return cells


def main():
    timeout = int(sys.argv[1])
    km = KernelManager(kernel_name="charm4ts")
    km.start_kernel()
    try:
        stuck = notebook(
            "class Spin extends Chare { spin(): number { for (;;) {} } ping(): number { return charm.myPe(); } }\n"
            "const spins = charm.array(Spin, 2);",
            "console.log('spinning in the cell');\nfor (;;) {}",
            "console.log('spinning on PE 1');\nawait spins.at(1).spin.ret()",
        )
        NotebookClient(stuck, km=km, timeout=timeout, interrupt_on_timeout=True, allow_errors=True).execute()
        following = notebook(
            "class Hello extends Chare { hi(): string { return 'hi from PE ' + charm.myPe(); } }\n"
            "const hellos = charm.array(Hello, 2);\n"
            "console.log(await hellos.at(0).hi.ret(), '/', await hellos.at(1).hi.ret());",
        )
        NotebookClient(following, km=km, timeout=timeout, interrupt_on_timeout=True, allow_errors=False).execute()
        print(json.dumps({"stuck": outputs(stuck), "following": outputs(following), "alive": km.is_alive()}))
    finally:
        km.shutdown_kernel(now=False)


main()
