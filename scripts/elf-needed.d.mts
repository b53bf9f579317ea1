// Types of elf-needed.mjs, for the tests (typecheck only; not shipped).
/** glibc's libraries that are empty stubs since 2.34 and that Bun names. */
export const GLIBC_STUBS: string[];
export function dropNeeded(elf: Buffer, names?: string[]): { elf: Buffer; dropped: string[]; why?: undefined } | { elf?: undefined; dropped?: undefined; why: string };
/** null where ld.so binds every symbol of the executable, else its words. */
export function verifyLinks(path: string): string | null;
