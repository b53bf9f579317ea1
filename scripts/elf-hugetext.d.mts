// Types of elf-hugetext.mjs, for the tests (typecheck only; not shipped).
/** Zeros between the text and the head in the file, by default. */
export const HEAD_GAP: number;
export function hugeText(
  elf: Buffer,
  options?: { env?: string[]; gap?: number },
): { elf: Buffer; stub: true; env: boolean; why?: string } | { elf: Buffer; stub: false; why: string; env?: undefined } | { elf: null; why: string; stub?: undefined; env?: undefined };
