// Errors the CLI reports as they are: one line, runc's wording where engines
// look for it ("does not exist", "not running", "not stopped").

export class RuntimeError extends Error {}

/** An error that exits with a status of its own (runc: 255 when exec cannot start its process). */
export class ExitError extends RuntimeError {
  constructor(
    message: string,
    readonly exitStatus: number,
  ) {
    super(message);
  }
}

const errnoNames = new Map<number, string>();

export function errnoName(errno: number): string {
  if (errnoNames.size === 0)
    // node:os only here, on an error path: loading it costs every run.
    for (const [name, value] of Object.entries(process.getBuiltinModule('node:os').constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const notExist = () => new RuntimeError('container does not exist');

/**
 * A state.json that holds no state: empty or cut short, as a power loss can
 * leave it on a disk-backed --root (state writes are not synced:
 * state/store.ts). The message names the file; delete --force removes the
 * container's directory (container/lifecycle.ts), and warns with `what`.
 */
export function unreadableState(id: string, path: string, why: string): RuntimeError & { unreadableState: string } {
  const what = `cannot read the state of container ${id}: ${path}: ${why}`;
  return Object.assign(new RuntimeError(`${what} (delete --force removes the container)`), { unreadableState: what });
}

/** The error's `what` if unreadableState made it. */
export function unreadableStateOf(e: unknown): string | undefined {
  return e instanceof RuntimeError ? (e as { unreadableState?: string }).unreadableState : undefined;
}
