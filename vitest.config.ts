import { defineConfig } from "vitest/config";

// Real worker threads, processes and sockets: give them time, and keep files apart so two
// suites don't fight over the machine's two cores at once.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
    // Fails the run when it left charm4ts-* entries in the temp folder (first: its teardown runs
    // last, after the others'); builds dist/; detects the system tools once and sums up what was
    // skipped without them.
    globalSetup: ["test/temp-leftovers.ts", "test/global-setup.ts", "test/system-tools.ts"],
    pool: "forks",
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "tsconfig.typetests.json" },
  },
});
