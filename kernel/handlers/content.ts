// Reading a request's content fields. Content is whatever JSON the sender wrote (only its being an
// object is checked on decoding), so each handler reads its fields through these: a field of the
// wrong type throws InvalidRequest, which the server answers with an error reply naming the field,
// instead of the handler failing deeper down with no reply at all.

/** Content that doesn't have the shape its msg_type requires; answered with `status: "error"`. */
export class InvalidRequest extends Error {
  override name = "InvalidRequest";
}

type Content = Readonly<Record<string, unknown>>;

// Absent means undefined or null: jupyter_client sends `null` for options left unset (n, pattern).
function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

// What was sent instead, cut short: the value comes from the wire and goes into the reply and the log.
const SHOWN_CHARS = 40;

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  const json = JSON.stringify(value) ?? String(value);
  const shown = json.length > SHOWN_CHARS ? `${json.slice(0, SHOWN_CHARS)}…` : json;
  return typeof value === "string" ? shown : `${typeof value} ${shown}`;
}

/** A string field, or `fallback` when absent. */
export function stringField(content: Content, field: string, fallback: string): string {
  const value = content[field];
  if (absent(value)) return fallback;
  if (typeof value !== "string") throw new InvalidRequest(`content.${field} must be a string, not ${describe(value)}`);
  return value;
}

/** A string field that must be present and not empty. */
export function requiredString(content: Content, field: string): string {
  const value = content[field];
  if (absent(value)) throw new InvalidRequest(`content.${field} is missing`);
  if (typeof value !== "string" || value === "") throw new InvalidRequest(`content.${field} must be a non-empty string, not ${describe(value)}`);
  return value;
}

/** An integer field within [min, max], or undefined when absent. */
export function integerField(content: Content, field: string, min = -Infinity, max = Infinity): number | undefined {
  const value = content[field];
  if (absent(value)) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? (min === -Infinity ? "" : ` ≥ ${min}`) : ` from ${min} to ${max}`;
    throw new InvalidRequest(`content.${field} must be an integer${range}, not ${describe(value)}`);
  }
  return value;
}

/** A field that must be one of a few strings. */
export function oneOf<T extends string>(content: Content, field: string, allowed: readonly T[]): T {
  const value = content[field];
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidRequest(`content.${field} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, not ${describe(value)}`);
}
