import { defineConfig } from "vitest/config";

// Real worker threads, processes and sockets: give them time, and keep files apart so two
// suites don't fight over the machine's two cores at once.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "tsconfig.typetests.json" },
  },
});
