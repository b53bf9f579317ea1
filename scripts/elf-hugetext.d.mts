// Types of elf-hugetext.mjs, for the tests (typecheck only; not shipped).
export function hugeText(elf: Buffer): { elf: Buffer; stub: true; why?: undefined } | { elf: Buffer; stub: false; why: string } | { elf: null; why: string; stub?: undefined };
