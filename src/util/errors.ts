// Errors the CLI reports as they are: one line, runc's wording where engines
// look for it ("does not exist", "not running", "not stopped").
import { constants } from 'node:os';

export class RuntimeError extends Error {}

const errnoNames = new Map<number, string>();

export function errnoName(errno: number): string {
  if (errnoNames.size === 0)
    for (const [name, value] of Object.entries(constants.errno)) if (!errnoNames.has(value)) errnoNames.set(value, name);
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const notExist = () => new RuntimeError('container does not exist');
