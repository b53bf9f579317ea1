// Splitting and checking the text of kernel files and arguments, without
// regexes. With JavaScriptCore's interpreter only (scripts/bun-compile.mjs),
// each regex a process uses is compiled at its first use, ~30-50 us apiece
// (`events --stats` used six, ~0.25 ms); split(/\s+/) also runs RegExp's
// @@split, written in JavaScript. A split at a string and a few string calls
// per line cost less.

/** "0"-"9" only, and at least one. */
export function isDigits(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Whether one of text's lines is exactly `line` (cgroup.events' "frozen 1"). */
export function hasLine(text: string, line: string): boolean {
  return `\n${text}\n`.includes(`\n${line}\n`);
}

/** A line's fields, between runs of spaces and tabs. */
export function words(line: string): string[] {
  const out: string[] = [];
  for (const w of line.split(' '))
    if (w.includes('\t')) {
      for (const t of w.split('\t')) if (t !== '') out.push(t);
    } else if (w !== '') out.push(w);
  return out;
}
