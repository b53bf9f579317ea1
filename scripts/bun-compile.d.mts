// Types of bun-compile.mjs, for the tests (typecheck only; not shipped).
export const BUN_BUILD_FLAGS: string[];
export const STUB_ENV: string[];
export function findBun(root: string): { bin: string; version: string } | null;
export function placeExecutable(from: string, to: string): void;
export function compileBun(bun: string, src: string, out: string): string;
