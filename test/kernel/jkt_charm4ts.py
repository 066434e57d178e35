"""Debian's jupyter_kernel_test against the charm4ts kernel.

Run by test/kernel/jupyter-kernel-test.test.ts with JUPYTER_PATH pointing at a temporary
prefix where the kernelspec was installed (`npm run install-kernel -- --prefix P`).
Every feature jupyter_kernel_test 0.4 checks is filled in, so none of its tests is skipped.
"""

import unittest

import jupyter_kernel_test as jkt


class Charm4tsKernelTests(jkt.KernelTests):
    kernel_name = "charm4ts"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oops")'

    completion_samples = [
        {"text": "Math.sq", "matches": {"sqrt"}},
        {"text": "const zebraCount = 1; zebraC", "matches": {"zebraCount"}},
    ]

    complete_code_samples = ["1 + 1", "const x: number = 3;", "function f() { return 1; }"]
    incomplete_code_samples = ["function f() {", "const a = [1,", "if (x) {"]
    invalid_code_samples = ["const = 5;", "f(]", "let x: number = 1 +;"]
    invalid_code_samples = ["f(]", "[1, 2)", "const o = { a: 1 ];"]

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2].map((x: number) => x * 2)", "result": "[ 2, 4 ]"},
    ]

    code_display_data = [
        {"code": 'display.html("<b>bold</b>")', "mime": "text/html"},
        {"code": 'display.markdown("# title")', "mime": "text/markdown"},
        {"code": "display.json({ a: 1 })", "mime": "application/json"},
    ]

    code_history_pattern = "1 ?*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    # IPython's help syntax, which the kernel answers with a pager payload.
    code_page_something = "Math.max?"

    code_clear_output = "clearOutput()"


if __name__ == "__main__":
    unittest.main()
