// A first hour's notebook, shared by the browser tests (the classic Notebook's and JupyterLab's):
// a type error, a remote error, a PE stuck in an endless loop (stopped with the toolbar's
// interrupt), work that carries on after it, PE processes from a restart, and a remote error from
// one of them. Each output must land under its own cell.

/** The cells, by the name the assertions use (also each cell's id). */
export const FIRST_HOUR = {
  typeError: "let typed: number = 'not a number';\nconsole.log('ran anyway');",
  classes: `class Boom extends Chare { boom(): number { throw new Error("boom on purpose"); } }
class Spin extends Chare { spin(): void { for (;;) {} } ping(): number { return charm.myPe(); } }`,
  remoteError: "const booms = charm.array(Boom, 2);\nawait booms.at(1).boom.ret()",
  stuck: "const spins = charm.array(Spin, 2);\nspins.at(1).spin();\nconsole.log('waiting for the stuck PE');\nawait spins.at(1).ping.ret()",
  carriesOn: "await spins.at(0).ping.ret()",
  processes: `await charm.restart({ transport: "processes", numPes: 3 });\n(await charm.status()).pes.length`,
  processError: "await charm.array(Boom, 3).at(2).boom.ret()",
} as const;
/** A first-hour cell's name. */
export type FirstHourCell = keyof typeof FIRST_HOUR;

/** A charm4ts notebook of code cells, each cell's id its key in `cells`. */
export function notebookJson(cells: Record<string, string>): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "charm4ts", display_name: "TypeScript (charm4ts)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
    },
    cells: Object.entries(cells).map(([id, source]) => ({ id, cell_type: "code", metadata: {}, source, outputs: [], execution_count: null })),
  }, null, 1);
}
