// Errors the CLI reports as they are: one line, runc's wording where engines
// look for it ("does not exist", "not running", "not stopped").

export class RuntimeError extends Error {}

const errnoNames = new Map<number, string>();

export function errnoName(errno: number): string {
  if (errnoNames.size === 0)
    // node:os only here, on an error path: loading it costs every run.
    for (const [name, value] of Object.entries(process.getBuiltinModule('node:os').constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const notExist = () => new RuntimeError('container does not exist');
