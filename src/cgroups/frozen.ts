// Is a container's cgroup frozen? Kept apart from the managers so that
// `state` and `list`, which ask this for every container, load nothing more.
import { readFileSync } from '../util/fs.ts';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** From state.cleanup: frozen by `pause` (v1: FROZEN by itself, not only through an ancestor; v2: cgroup.freeze is 1). */
export function cgroupFrozen(cleanup: Record<string, unknown> | undefined): boolean {
  const rec = cleanup?.cgroup as { version: 1 | 2; paths: Record<string, string> } | undefined;
  if (!rec) return false;
  if (rec.version === 2) return rec.paths[''] !== undefined && read(`${rec.paths['']}/cgroup.freeze`) === '1';
  const dir = rec.paths.freezer;
  if (!dir) return false;
  const state = read(`${dir}/freezer.state`);
  // FREEZING is a pause in progress (or one that failed and is being undone).
  return state === 'FROZEN' && (read(`${dir}/freezer.self_freezing`) ?? '1') === '1';
}
