/**
 * Reads the hosts an ssh launch runs PEs on: Charm++'s nodelist format (`group main` followed by
 * `host NAME` lines; `++option value` pairs after a name are Charm++'s per-host settings, ignored
 * here) or a plain list, one host a line. `#` starts a comment in both.
 */

/** The hosts of `group` (default "main") in a nodelist file's text, in file order. */
export function parseNodelist(text: string, group = "main", file = "the nodelist"): string[] {
  const lines = text.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter((line) => line !== "");
  const charmFormat = lines.some((line) => /^(group|host)\s/.test(line));
  if (!charmFormat) {
    const words = lines.map((line) => line.split(/\s+/));
    const bad = words.find((w) => w.length > 1);
    if (bad) throw new Error(`${file}: "${bad.join(" ")}" is neither a host name nor a \`group\`/\`host\` line of Charm++'s nodelist format`);
    return words.map((w) => w[0]!);
  }
  const hosts: string[] = [];
  // Charm++ puts hosts listed before any `group` line in group "main".
  let current = "main";
  const groups = new Set<string>(["main"]);
  for (const line of lines) {
    const [keyword, name] = line.split(/\s+/);
    if (keyword === "group" || keyword === "host") {
      if (!name || name.startsWith("++")) throw new Error(`${file}: "${line}" names no ${keyword}`);
      if (keyword === "group") groups.add((current = name));
      else if (current === group) hosts.push(name);
    } else if (!keyword!.startsWith("++")) {
      // A line of options only (`++shell ssh`) sets defaults in Charm++; anything else is a typo.
      throw new Error(`${file}: "${line}" is not a \`group NAME\` or \`host NAME\` line`);
    }
  }
  if (hosts.length === 0) {
    const known = [...groups].join(", ");
    throw new Error(`${file}: group ${group} lists no hosts (groups: ${known}); add \`host NAME\` lines under \`group ${group}\``);
  }
  return hosts;
}

/** Splits `++hosts a,b,c` (or CHARM4TS_HOSTS) into host names. */
export function parseHostList(list: string): string[] {
  const hosts = list.split(",").map((h) => h.trim());
  if (hosts.some((h) => h === "" || /\s/.test(h))) throw new Error(`"${list}" is not a comma-separated list of host names (a,b,c)`);
  return hosts;
}
