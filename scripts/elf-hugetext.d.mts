// Types of elf-hugetext.mjs, for the tests (typecheck only; not shipped).
export function hugeText(
  elf: Buffer,
  options?: { env?: string[] },
): { elf: Buffer; stub: true; env: boolean; why?: string } | { elf: Buffer; stub: false; why: string; env?: undefined } | { elf: null; why: string; stub?: undefined; env?: undefined };
