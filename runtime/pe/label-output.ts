/** Marks what a PE prints with its number, so output gathered from many PEs says where it came from. */

/** Prefixes every line this thread writes to stdout and stderr with "[PE n] ". */
export function labelLines(pe: number): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: any[]) => boolean;
    let atLineStart = true;
    stream.write = ((chunk: string | Uint8Array, ...rest: any[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      let out = "";
      for (const piece of text.split(/(?<=\n)/)) {
        if (piece === "") continue;
        out += (atLineStart ? `[PE ${pe}] ` : "") + piece;
        atLineStart = piece.endsWith("\n");
      }
      return write(out, ...rest);
    }) as typeof stream.write;
  }
}
