// Can a uid that the host treats as "others" (a user namespace's mapped root,
// say 100000) reach a path? It needs search (x) permission on every directory
// from / down: a checkout under /root (0700) fails that, and so does a
// TMPDIR under it.
import { copyFileSync, linkSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The first directory from / down to `path` (itself included) that others cannot search, or undefined. */
export function unsearchableDir(path: string): string | undefined {
  const chain: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    chain.unshift(p);
    if (p === '/') break;
  }
  for (const d of chain) {
    let mode: number;
    try {
      mode = statSync(d).mode;
    } catch {
      return undefined; // not there (yet): whoever makes it decides its mode
    }
    if ((mode & 0o001) === 0) return d;
  }
  return undefined;
}

/**
 * `from` at `to`, in a tree others can search (directories made 0755): a hard
 * link where the file system allows, else a copy. For the copies of a build
 * that a user who cannot reach the checkout runs.
 */
export function placeReachable(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}
