// POSIX path operations: what tsrunc uses of node:path, with node:path's
// results (test/path.test.ts holds them against it).
//
// Why not node:path: under Bun a builtin module costs ~0.3 ms at its first
// require, and the first builtin a process loads ~0.7 ms, measured in-process
// on this host; node:path was the last builtin every verb loaded (see
// src/util/fs.ts for node:fs). Linux paths only: `posix` is this module too.

/** Node's normalize: `.` and empty segments dropped, `..` resolved, one trailing slash kept. */
export function normalize(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const trailing = path.endsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      // At the root, `..` is the root.
      continue;
    }
    out.push(seg);
  }
  const body = out.join('/');
  if (body === '') return absolute ? '/' : trailing ? './' : '.';
  return (absolute ? '/' : '') + body + (trailing ? '/' : '');
}

export function join(...parts: string[]): string {
  const nonEmpty = parts.filter((p) => p !== '');
  return nonEmpty.length ? normalize(nonEmpty.join('/')) : '.';
}

/** Absolute, normalized, without a trailing slash: the parts from the right up to the first absolute one, then the cwd. */
export function resolve(...parts: string[]): string {
  let path = '';
  for (let i = parts.length - 1; i >= 0 && !path.startsWith('/'); i--) if (parts[i] !== '') path = path ? `${parts[i]}/${path}` : parts[i];
  if (!path.startsWith('/')) path = path ? `${process.cwd()}/${path}` : process.cwd();
  const n = normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

export function dirname(path: string): string {
  if (path === '') return '.';
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  const slash = path.lastIndexOf('/', end - 1);
  if (slash === -1) return '.';
  if (slash === 0) return '/';
  // Node keeps a leading `//` as it is.
  if (slash === 1 && path[0] === '/') return '//';
  return path.slice(0, slash);
}

/** The last segment, trailing slashes ignored ('' for the root). */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

/** The path from `from` to `to`, both resolved first: `..` segments, then `to`'s own. */
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...Array<string>(a.length - common).fill('..'), ...b.slice(common)].join('/');
}

export const posix = { normalize, join, resolve, isAbsolute, dirname, basename, relative };
