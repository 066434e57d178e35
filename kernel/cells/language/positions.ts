/** Jupyter counts cursor positions in Unicode code points; JS strings index UTF-16 units: they differ past the first astral character. */

/** UTF-16 offset of the `codePoints`-th code point of `text` (clamped to its length). */
export function codePointsToUtf16(text: string, codePoints: number): number {
  let offset = 0;
  for (let seen = 0; seen < codePoints && offset < text.length; seen++) {
    const unit = text.charCodeAt(offset);
    offset += unit >= 0xd800 && unit <= 0xdbff && offset + 1 < text.length ? 2 : 1;
  }
  return offset;
}

/** Code points in the first `utf16Offset` UTF-16 units of `text`. */
export function utf16ToCodePoints(text: string, utf16Offset: number): number {
  let count = 0;
  for (let offset = 0; offset < utf16Offset && offset < text.length; count++) {
    const unit = text.charCodeAt(offset);
    offset += unit >= 0xd800 && unit <= 0xdbff && offset + 1 < text.length ? 2 : 1;
  }
  return count;
}
