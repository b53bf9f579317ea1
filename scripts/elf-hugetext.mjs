// The Bun executable laid out for 2 MiB pages: dist/tsrunc's code mapped by
// a few huge-page entries instead of thousands of small ones, on every start.
// Used by scripts/bun-compile.mjs on what `bun build --compile` wrote; no
// dependencies, since it ships.
//
// Why: a tsrunc verb is a process start, and most of a start is the kernel
// mapping Bun's ~100 MB executable, page fault by page fault (README,
// "Benchmark: huge pages"). How many faults, and what each costs, depends on
// the page cache: a file read sequentially (a build, an install, `cat`) sits
// there in large folios, up to 2 MiB, and the faults of an exec read it in
// 4 kB ones. The kernel maps a 2 MiB folio with one page-table entry, a PMD,
// when the virtual address and the file offset agree modulo 2 MiB.
//
// Two changes, both to the copy, never to Bun's code:
//
// 1. Alignment. Zero bytes are inserted in the file before each read-only
//    segment (rodata, text) so that its file offset is congruent to its
//    address modulo 2 MiB, and the program and section headers are moved to
//    match. Addresses do not change, so nothing in the program does; a
//    linker's `-z max-page-size=0x200000` gives the same layout.
//
// 2. An entry stub, x86-64 only. The file's entry point is moved to a few
//    instructions placed in the padding before the text (mapped executable
//    already, since the text's first page starts there), which run before
//    any of Bun's code:
//        mov  r8, rdx            ; rdx: ld.so's exit hook, for _start
//        mov  eax, 28            ; madvise(segment, length, MADV_HUGEPAGE)
//        mov  edi, SEGMENT       ;   for each read-only segment
//        mov  esi, LENGTH
//        mov  edx, 14
//        syscall                 ; (clobbers rax, rcx, r11: unused by _start)
//        ...
//        mov  rdx, r8
//        jmp  BUN'S ENTRY
//    With MADV_HUGEPAGE, a fault on a page that is not in the page cache
//    reads it in 2 MiB folios, mapped by PMD. So after a boot (an empty page
//    cache) the first start leaves the code in 2 MiB folios for every later
//    one; without it, that first start would leave 4 kB folios, which stay
//    until evicted. The stub ignores madvise's result: where huge pages are
//    off (transparent_hugepage=never) or the filesystem keeps no large folios
//    (ext4 before Linux 6.16), the process runs as it would have.
//
// Only a position-dependent executable (ET_EXEC: its addresses are in the
// file, so its alignment is known) is changed; hugeText() says why it left
// any other as it is.

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const HUGE = 0x200000; // the x86-64 and arm64 (4 kB granule) PMD size
const PAGE = 0x1000;
const EM_X86_64 = 62;
const SYS_MADVISE = 28;
const MADV_HUGEPAGE = 14;

/** The stub's machine code (see above): madvise each range, then jump to `entry`. */
function stub(at, ranges, entry) {
  const imm32 = (v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  const code = [0x49, 0x89, 0xd0]; // mov r8, rdx
  for (const [start, length] of ranges) {
    code.push(0xb8, ...imm32(SYS_MADVISE)); // mov eax, 28
    code.push(0xbf, ...imm32(start)); // mov edi, start
    code.push(0xbe, ...imm32(length)); // mov esi, length
    code.push(0xba, ...imm32(MADV_HUGEPAGE)); // mov edx, 14
    code.push(0x0f, 0x05); // syscall
  }
  code.push(0x4c, 0x89, 0xc2); // mov rdx, r8
  code.push(0xe9, ...imm32(entry - (at + code.length + 5))); // jmp entry (rel32)
  return Buffer.from(code);
}

/**
 * `elf` (a Buffer) laid out for 2 MiB pages: { elf, stub: true } with the new
 * file; { elf, stub: false, why } where it is aligned but has no entry stub;
 * or { elf: null, why } where it is left as it is.
 */
export function hugeText(elf) {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) return { elf: null, why: 'not an ELF file' };
  if (elf[4] !== 2 || elf[5] !== 1) return { elf: null, why: 'not a 64-bit little-endian ELF file' };
  if (elf.readUInt16LE(16) !== 2) return { elf: null, why: 'position-independent (its load address is chosen at exec)' };
  const machine = elf.readUInt16LE(18);
  const entry = Number(elf.readBigUInt64LE(24));
  const phoff = Number(elf.readBigUInt64LE(32));
  const shoff = Number(elf.readBigUInt64LE(40));
  const [phentsize, phnum, shentsize, shnum] = [54, 56, 58, 60].map((o) => elf.readUInt16LE(o));
  if (phentsize !== 56 || (shnum && shentsize !== 64)) return { elf: null, why: 'unexpected header sizes' };

  const headers = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    headers.push({
      at,
      type: elf.readUInt32LE(at),
      flags: elf.readUInt32LE(at + 4),
      offset: Number(elf.readBigUInt64LE(at + 8)),
      vaddr: Number(elf.readBigUInt64LE(at + 16)),
      filesz: Number(elf.readBigUInt64LE(at + 32)),
      memsz: Number(elf.readBigUInt64LE(at + 40)),
    });
  }
  const loads = headers.filter((h) => h.type === PT_LOAD).sort((a, b) => a.offset - b.offset);
  const text = loads.find((h) => h.flags & PF_X);
  if (!text || loads.some((h) => (h.vaddr - h.offset) % PAGE !== 0)) return { elf: null, why: 'no page-aligned text segment' };
  const headerEnd = Math.max(phoff + phnum * phentsize, 64);
  // The entry stub fits between the start of the text's first page and the text.
  const stubRoom = text.vaddr % PAGE;
  const stubLength = stub(0, loads.filter((h) => !(h.flags & PF_W)).map(() => [0, 0]), 0).length;
  const withStub = machine === EM_X86_64 && stubRoom >= stubLength && entry >= text.vaddr && entry < text.vaddr + text.filesz;

  // Padding before each read-only segment (writable ones are copied on write
  // and gain nothing), in file order: [offset in the old file, length].
  const inserts = [];
  let shift = 0;
  for (const h of loads) {
    if (h.flags & PF_W) continue;
    let pad = (((h.vaddr - (h.offset + shift)) % HUGE) + HUGE) % HUGE;
    // The stub goes in the padding: it must cover the text's first page up to the text.
    if (h === text && withStub && pad < stubRoom) pad += HUGE;
    if (!pad) continue;
    // Headers cannot move: a segment that starts among them stays as it is.
    if (h.offset < headerEnd) continue;
    inserts.push([h.offset, pad]);
    shift += pad;
  }
  if (!inserts.length && !withStub) return { elf: null, why: 'already aligned' };
  const moved = (offset) => inserts.reduce((o, [at, pad]) => (offset >= at ? o + pad : o), offset);

  const parts = [];
  let last = 0;
  for (const [at, pad] of inserts) {
    parts.push(elf.subarray(last, at), Buffer.alloc(pad));
    last = at;
  }
  parts.push(elf.subarray(last));
  const out = Buffer.concat(parts);
  for (const h of headers) out.writeBigUInt64LE(BigInt(moved(h.offset)), h.at + 8);
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    if (elf.readUInt32LE(at + 4) !== 0) out.writeBigUInt64LE(BigInt(moved(Number(elf.readBigUInt64LE(at + 24)))), moved(at) + 24);
  }
  out.writeBigUInt64LE(BigInt(moved(shoff)), 40);

  for (const h of loads) {
    if (!(h.flags & PF_W) && h.offset >= headerEnd && (moved(h.offset) - h.vaddr) % HUGE !== 0)
      return { elf: null, why: 'a segment could not be aligned' };
  }
  if (!withStub)
    return { elf: out, stub: false, why: machine !== EM_X86_64 ? 'the entry stub is x86-64 code' : 'no room for the entry stub before the text' };

  const ranges = loads
    .filter((h) => !(h.flags & PF_W))
    .map((h) => [h.vaddr - (h.vaddr % PAGE), Math.ceil((h.vaddr + h.memsz) / PAGE) * PAGE - (h.vaddr - (h.vaddr % PAGE))]);
  if (ranges.some(([s, l]) => s + l >= 2 ** 31)) return { elf: out, stub: false, why: 'segments above 2 GiB' };
  const at = text.vaddr - stubRoom;
  const code = stub(at, ranges, entry);
  const fileAt = moved(text.offset) - stubRoom;
  // Only the padding inserted before the text is overwritten.
  const textPad = inserts.find(([o]) => o === text.offset)?.[1] ?? 0;
  if (textPad < stubRoom) return { elf: out, stub: false, why: 'no padding before the text' };
  code.copy(out, fileAt);
  out.writeBigUInt64LE(BigInt(at), 24);
  return { elf: out, stub: true };
}
