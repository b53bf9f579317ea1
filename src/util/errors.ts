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
