/**
 * The shared secret a PE process shows to join a runtime: made by the driver, one per runtime,
 * and never put on a command line (other users can read those in `ps`). A spawned PE gets it
 * in its environment (CHARM4TS_SECRET, readable only by its user); a PE started by a launcher
 * reads it from a file only its user can read (`--secret-file`) or from its stdin (`--secret-stdin`,
 * for one started by hand over ssh).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { CurveKeys } from "../transport/curve.ts";

/** The environment variable a spawned PE process finds the secret in. */
export const SECRET_ENV = "CHARM4TS_SECRET";

/** A fresh random secret (256 bits, hex). */
export function newSecret(): string {
  return randomBytes(32).toString("hex");
}

/** What the secret carries: the token a PE shows to join, and the runtime's CURVE keys (absent only with plain TCP). */
export interface RuntimeSecret {
  token: string;
  curve?: CurveKeys;
}

// Fields separated by commas: Z85 (the keys' encoding) has no comma.
/** The secret as one line of text (for an environment variable or a file). */
export function encodeSecret(secret: RuntimeSecret): string {
  const { token, curve } = secret;
  return curve ? [token, curve.serverPublic, curve.serverSecret, curve.clientPublic, curve.clientSecret].join(",") : token;
}

/** Reads a secret made by `encodeSecret`. */
export function decodeSecret(text: string): RuntimeSecret {
  const fields = text.trim().split(",");
  if (fields.length === 1) return { token: fields[0]! };
  if (fields.length !== 5 || fields.slice(1).some((k) => k.length !== 40)) throw new Error("the secret is malformed: copy it whole from the driver's secret file");
  const [token, serverPublic, serverSecret, clientPublic, clientSecret] = fields as [string, string, string, string, string];
  return { token, curve: { serverPublic, serverSecret, clientPublic, clientSecret } };
}

/** Whether `given` is `expected`, in time that doesn't depend on where they differ. */
export function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== "string") return false;
  // Hashing first makes the lengths equal, as timingSafeEqual requires, without leaking the length.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Reads a secret file, refusing one that other users could read (it must be mode 0600 or stricter). */
export function readSecretFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new Error(`can't read the secret file ${path}: ${(err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new Error(`the secret file ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\``);
  }
  const secret = readFileSync(path, "utf8").trim();
  if (!secret) throw new Error(`the secret file ${path} is empty`);
  return secret;
}

/** Reads the secret from the first line of stdin, then lets stdin go. */
export async function readSecretStdin(): Promise<string> {
  let text = "";
  // Leaving the loop destroys the stream: nothing else is read, and stdin keeps nobody alive.
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  const secret = text.split("\n")[0]!.trim();
  if (!secret) throw new Error("--secret-stdin: stdin ended before a secret came");
  return secret;
}
