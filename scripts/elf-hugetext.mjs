// The Bun executable laid out for 2 MiB pages: dist/tsrunc's code mapped by
// a few huge-page entries instead of thousands of small ones, on every start.
// Used by scripts/bun-compile.mjs on what `bun build --compile` wrote; no
// dependencies, since it ships.
//
// Why: a tsrunc verb is a process start, and most of a start is the kernel
// mapping Bun's ~100 MB executable, page fault by page fault (README,
// "Huge pages for the executable"). How many faults, and what each costs, depends on
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
// 2. A head and an entry stub, x86-64 only. A fault on a page that is not in
//    the page cache reads around it (read_ahead_kb, 8 MB on some VMs) in 4 kB
//    folios, which can never be mapped by PMD, until the stub's madvise below
//    has run. What is read before that must therefore lie away from the
//    read-only segments in the file. So the head, two segments of their own
//    above every other (in the file between the text and the writable
//    segment, HEAD_GAP after the text's last 2 MiB block), holds all that the
//    kernel and ld.so read before the entry point: the program headers, the
//    interpreter's name, the notes, and copies of ld.so's tables (.dynsym,
//    .dynstr, the hashes, versions, relocations; .dynamic and the section
//    headers point at the copies); then, executable, the stub. The first
//    segment moves into a 2 MiB block of the file of its own, behind the ELF
//    header's page (the kernel reads that page; the segment begins with a
//    copy of it). The head keeps the first segment's address less offset:
//    kernels before 5.18 (where the fix was not backported) compute AT_PHDR
//    from those. The stub's
//    instructions, which run before any of Bun's code:
//        mov  r8, rdx            ; rdx: ld.so's exit hook, for _start
//        mov  eax, 28            ; madvise(segment, length, MADV_HUGEPAGE)
//        mov  edi, SEGMENT       ;   for each read-only segment
//        mov  esi, LENGTH
//        mov  edx, 14
//        syscall                 ; (clobbers rax, rcx, r11: unused by _start)
//        ...
//        [the environment block, below]
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
//    The environment block (hugeText's `env`): entries the program reads
//    before its main, put first in its environment. Bun takes JavaScriptCore's
//    options from BUN_JSC_* variables as it starts, and has no other way to
//    set them in an executable (scripts/bun-compile.mjs says which, and why).
//    ld.so has run libc's initializers by now, so the environment is libc's
//    `environ`, which an executable that uses it holds itself (a copy
//    relocation, at an address in the file). The kernel's frame (argc, argv,
//    NULL, envp, NULL, auxv) is copied below itself with the new entries
//    before envp, `environ` is pointed at the copy's envp, and _start gets
//    the copy: a frame as the kernel would have made it. The original stays
//    as it was (ld.so's and libc's pointers into it still hold); the
//    strings follow the stub's code, within 4096 bytes of the entry point.
//        cld
//        mov  rax, [rsp]             ; argc
//        lea  r9, [rsp+rax*8+16]     ; envp
//        mov  r10, r9                ; r10: past envp's NULL, then past
//        ...                         ;   auxv's AT_NULL: the frame's end
//        mov  rdi, rsp - (r10 - rsp) - 8*N, rounded down to 16
//        mov  r11, rdi               ; the new stack pointer
//        rep movsq                   ; argc, argv, NULL
//        mov  [environ], rdi
//        lea  rax, [rip+STRING] / mov [rdi], rax / add rdi, 8   ; N times
//        rep movsq                   ; envp, NULL, auxv
//        mov  rsp, r11
//    tsrunc takes the entries out of its environment again once it runs
//    (addon/src/environ.cc): they are for Bun, not for what tsrunc starts.

// Only a position-dependent executable (ET_EXEC: its addresses are in the
// file, so its alignment is known) is changed; hugeText() says why it left
// any other as it is.

// ELF's numbers: program header types and flags, section type and flag.
const [PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR, PT_GNU_PROPERTY] = [1, 2, 3, 4, 6, 0x6474e553];
const [PF_X, PF_W, PF_R] = [1, 2, 4];
const [SHT_DYNSYM, SHF_ALLOC] = [11, 2];
const EM_X86_64 = 62;
const HUGE = 0x200000; // the x86-64 and arm64 (4 kB granule) PMD size
const PAGE = 0x1000;
const SYS_MADVISE = 28;
const MADV_HUGEPAGE = 14;
// The dynamic linker's tables, by section type: RELA, HASH, REL, GNU_HASH,
// GNU_verdef, GNU_verneed, GNU_versym (and DYNSYM, and its string table).
const TABLE_TYPES = [4, 5, 9, 11, 0x6ffffff6, 0x6ffffffd, 0x6ffffffe, 0x6fffffff];
// .dynamic's entries that point at them: HASH, STRTAB, SYMTAB, RELA, REL,
// JMPREL, RELR, GNU_HASH, VERSYM, VERDEF, VERNEED.
const TABLE_TAGS = [4, 5, 6, 7, 17, 23, 36, 0x6ffffef5, 0x6ffffff0, 0x6ffffffc, 0x6ffffffe];
// Zeros between the text and the head in the file (see above): half of the
// largest read-around (read_ahead_kb) a fault in the head or the writable
// segment may cause, before the stub's madvise, without reaching the text.
export const HEAD_GAP = 0x400000;
// How the stub begins (mov r8, rdx; mov eax, SYS_MADVISE): an entry point that begins so was laid out here.
const STUB_HEAD = Buffer.from([0x49, 0x89, 0xd0, 0xb8, SYS_MADVISE, 0, 0, 0]);

const imm32 = (v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];

/**
 * The stub's machine code (see above), to be placed at `at`: madvise each of
 * `ranges`; with `env` ({ environ, strings }), the frame copied with `strings`
 * first in the environment; then jump to `entry`.
 */
function stub(at, ranges, env, entry) {
  const code = [0x49, 0x89, 0xd0]; // mov r8, rdx
  for (const [start, length] of ranges) {
    code.push(0xb8, ...imm32(SYS_MADVISE)); // mov eax, 28
    code.push(0xbf, ...imm32(start)); // mov edi, start
    code.push(0xbe, ...imm32(length)); // mov esi, length
    code.push(0xba, ...imm32(MADV_HUGEPAGE)); // mov edx, 14
    code.push(0x0f, 0x05); // syscall
  }
  const leas = [];
  if (env) {
    code.push(
      0xfc, // cld
      0x48, 0x8b, 0x04, 0x24, // mov rax, [rsp]
      0x4c, 0x8d, 0x4c, 0xc4, 0x10, // lea r9, [rsp+rax*8+16]
      0x4d, 0x89, 0xca, // mov r10, r9
      0x49, 0x8b, 0x02, 0x49, 0x83, 0xc2, 0x08, 0x48, 0x85, 0xc0, 0x75, 0xf4, // 1: mov rax, [r10]; add r10, 8; test rax, rax; jnz 1b
      0x49, 0x8b, 0x02, 0x49, 0x83, 0xc2, 0x10, 0x48, 0x85, 0xc0, 0x75, 0xf4, // 2: mov rax, [r10]; add r10, 16; test rax, rax; jnz 2b
      0x48, 0x89, 0xe6, // mov rsi, rsp
      0x4c, 0x89, 0xd1, // mov rcx, r10
      0x48, 0x29, 0xe1, // sub rcx, rsp
      0x48, 0x89, 0xe7, // mov rdi, rsp
      0x48, 0x29, 0xcf, // sub rdi, rcx
      0x48, 0x83, 0xef, 8 * env.strings.length, // sub rdi, 8*N
      0x48, 0x83, 0xe7, 0xf0, // and rdi, -16
      0x49, 0x89, 0xfb, // mov r11, rdi
      0x4c, 0x89, 0xc9, // mov rcx, r9
      0x48, 0x29, 0xe1, // sub rcx, rsp
      0x48, 0xc1, 0xe9, 0x03, // shr rcx, 3
      0xf3, 0x48, 0xa5, // rep movsq
      0x48, 0x89, 0x3c, 0x25, ...imm32(env.environ), // mov [environ], rdi
    );
    for (const _ of env.strings) {
      leas.push(code.length);
      code.push(0x48, 0x8d, 0x05, 0, 0, 0, 0); // lea rax, [rip+STRING] (rel32 below)
      code.push(0x48, 0x89, 0x07, 0x48, 0x83, 0xc7, 0x08); // mov [rdi], rax; add rdi, 8
    }
    code.push(
      0x4c, 0x89, 0xd1, // mov rcx, r10
      0x4c, 0x29, 0xc9, // sub rcx, r9
      0x48, 0xc1, 0xe9, 0x03, // shr rcx, 3
      0xf3, 0x48, 0xa5, // rep movsq
      0x4c, 0x89, 0xdc, // mov rsp, r11
    );
  }
  code.push(0x4c, 0x89, 0xc2); // mov rdx, r8
  code.push(0xe9, ...imm32(entry - (at + code.length + 5))); // jmp entry (rel32)
  env?.strings.forEach((text, i) => {
    code.splice(leas[i] + 3, 4, ...imm32(code.length - (leas[i] + 7)));
    code.push(...Buffer.from(`${text}\0`, 'latin1'));
  });
  return Buffer.from(code);
}

/** The address of the executable's own `environ` (libc's, copy-relocated into it), or 0 where it has none. */
function environAddress(elf) {
  const shoff = Number(elf.readBigUInt64LE(40));
  const [shentsize, shnum] = [58, 60].map((o) => elf.readUInt16LE(o));
  const section = (i) => {
    const at = shoff + i * shentsize;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 24)), size: Number(elf.readBigUInt64LE(at + 32)), link: elf.readUInt32LE(at + 40) };
  };
  for (let i = 0; i < shnum; i++) {
    const dynsym = section(i);
    if (dynsym.type !== SHT_DYNSYM) continue;
    const strtab = section(dynsym.link);
    for (let at = dynsym.offset; at + 24 <= dynsym.offset + dynsym.size; at += 24) {
      const nameAt = strtab.offset + elf.readUInt32LE(at);
      const name = elf.subarray(nameAt, elf.indexOf(0, nameAt)).toString('latin1');
      const value = Number(elf.readBigUInt64LE(at + 8));
      if ((name === 'environ' || name === '__environ') && elf.readUInt16LE(at + 6) !== 0 && value > 0 && value < 2 ** 31) return value;
    }
  }
  return 0;
}

/**
 * `elf` (a Buffer) laid out for 2 MiB pages: { elf, stub: true, env } with the
 * new file (env: whether its stub puts `options.env`'s entries, "NAME=value"
 * strings, first in the environment; why, where it was asked to and does not);
 * { elf, stub: false, why } where it is aligned but has no entry stub; or
 * { elf: null, why } where it is left as it is.
 */
export function hugeText(elf, { env = [], gap = HEAD_GAP } = {}) {
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
    const [type, flags] = [elf.readUInt32LE(at), elf.readUInt32LE(at + 4)];
    const [offset, vaddr, paddr, filesz, memsz, align] = [8, 16, 24, 32, 40, 48].map((o) => Number(elf.readBigUInt64LE(at + o)));
    headers.push({ type, flags, offset, vaddr, paddr, filesz, memsz, align });
  }
  const loads = headers.filter((h) => h.type === PT_LOAD).sort((a, b) => a.offset - b.offset);
  const text = loads.find((h) => h.flags & PF_X);
  if (!text || loads.some((h) => (h.vaddr - h.offset) % PAGE !== 0)) return { elf: null, why: 'no page-aligned text segment' };
  const headerEnd = Math.max(phoff + phnum * phentsize, 64);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    sections.push({ at, type: elf.readUInt32LE(at + 4), flags: Number(elf.readBigUInt64LE(at + 8)), offset: Number(elf.readBigUInt64LE(at + 24)), size: Number(elf.readBigUInt64LE(at + 32)), link: elf.readUInt32LE(at + 40) });
  }
  const entryLoad = loads.find((h) => entry >= h.vaddr && entry < h.vaddr + h.filesz);
  const entryAt = entryLoad ? entry - entryLoad.vaddr + entryLoad.offset : 0;
  if (entryLoad && elf.subarray(entryAt, entryAt + 8).equals(STUB_HEAD)) return { elf: null, why: 'already aligned, with its entry stub' };
  const first = headers.find((h) => h.type === PT_LOAD);
  const withHead = machine === EM_X86_64 && entry >= text.vaddr && entry < text.vaddr + text.filesz && first.offset === 0 && !(first.flags & PF_W);
  // The environment block: `environ` must be the executable's own, at an address in the file.
  let block = env.length ? { environ: environAddress(elf), strings: env } : null;
  let envWhy;
  if (block && !block.environ) envWhy = "the executable holds no environ of its own (no copy relocation of libc's)";
  else if (block && env.length > 15) envWhy = 'more than 15 environment entries';
  if (envWhy) block = null;

  // Padding before each read-only segment (writable ones are copied on write
  // and gain nothing), in file order: [offset in the old file, length]. With
  // the head, the first segment moves too, into a 2 MiB block of its own:
  // the file's first page (the ELF header, which the kernel reads) stays
  // where it is, and a copy of it begins the segment.
  const inserts = [];
  let shift = 0;
  for (const h of loads) {
    if (h.flags & PF_W) continue;
    let pad = (((h.vaddr - (h.offset + shift)) % HUGE) + HUGE) % HUGE;
    if (h === first && withHead) pad += HUGE;
    // Headers cannot move without the head: a segment that starts among them stays as it is.
    if (pad && (h.offset >= headerEnd || (h === first && withHead))) {
      inserts.push([h.offset, pad]);
      shift += pad;
    }
  }
  const moved = (offset) => inserts.reduce((o, [at, pad]) => (offset >= at ? o + pad : o), offset);
  // What the stub asks huge pages for: the read-only segments.
  const huge = loads.filter((h) => !(h.flags & PF_W));

  // The head (see above): where it goes in the file, what it holds, where it is mapped.
  let head = null;
  if (withHead) {
    // Kernels before 5.18 (unless the fix was backported) pass AT_PHDR as the
    // first segment's address less its offset, plus e_phoff: the head keeps
    // that difference.
    const bias = first.vaddr - moved(first.offset);
    // The dynamic linker's tables: sections of the first segment, copied
    // whole pages at a time so that their alignment holds.
    const dynstr = sections.find((x) => x.type === SHT_DYNSYM)?.link;
    const tables = sections.filter((x, i) => x.flags & SHF_ALLOC && (TABLE_TYPES.includes(x.type) || i === dynstr) && x.offset + x.size <= first.filesz);
    const lo = tables.length ? Math.floor(Math.min(...tables.map((x) => x.offset)) / PAGE) * PAGE : 0;
    const hi = tables.length ? Math.max(...tables.map((x) => x.offset + x.size)) : 0;
    // The first page of the head: the program headers, then the interpreter's
    // name and the notes (read by the kernel and ld.so from there).
    const count = phnum + 2;
    const small = [];
    let room = count * phentsize;
    for (const h of headers.filter((h) => h.type === PT_INTERP || h.type === PT_NOTE || h.type === PT_GNU_PROPERTY)) {
      room = Math.ceil(room / Math.max(h.align, 8)) * Math.max(h.align, 8);
      small.push({ h, at: room });
      room += h.filesz;
    }
    const phdrPages = Math.ceil(room / PAGE) * PAGE;
    const tablePages = Math.ceil((hi - lo) / PAGE) * PAGE;
    const codeLength = stub(0, huge.map(() => [0, 0]), block, 0).length;
    // In the old file: right after the text, or at the start of the next
    // segment's first page where the text ends before it.
    const next = loads.find((h) => h.offset > text.offset);
    const at = next ? Math.max(text.offset + text.filesz, next.offset - (next.offset % PAGE)) : text.offset + text.filesz;
    const maxEnd = Math.max(...loads.map((h) => Math.ceil((h.vaddr + h.memsz) / PAGE) * PAGE));
    // From the end of the text's last 2 MiB block on, by `gap`: a read around
    // a fault in the head or after it must leave that block alone, or the
    // text's end is read in 4 kB folios.
    const start = Math.max(Math.ceil(moved(at) / HUGE) * HUGE + gap, maxEnd - bias);
    const size = phdrPages + tablePages + Math.ceil(codeLength / PAGE) * PAGE;
    const before = start - moved(at);
    inserts.push([at, before + size + ((PAGE - ((before + size) % PAGE)) % PAGE)]);
    head = { bias, start, tables, lo, hi, count, small, phdrPages, tablePages, stubAt: start + phdrPages + tablePages, codeLength };
  }
  if (!inserts.length) return { elf: null, why: 'already aligned' };

  const parts = [];
  let last = 0;
  for (const [at, pad] of inserts) {
    parts.push(elf.subarray(last, at), Buffer.alloc(pad));
    last = at;
  }
  parts.push(elf.subarray(last));
  const out = Buffer.concat(parts);
  // The file's first page, where the first segment moved: the ELF header the kernel reads.
  if (moved(0) !== 0) elf.copy(out, 0, 0, Math.min(PAGE, elf.length));
  for (const x of sections) if (x.type !== 0) out.writeBigUInt64LE(BigInt(moved(x.offset)), moved(x.at) + 24);
  out.writeBigUInt64LE(BigInt(moved(shoff)), 40);

  for (const h of huge) if ((moved(h.offset) - h.vaddr) % HUGE !== 0 && (h.offset >= headerEnd || head)) return { elf: null, why: 'a segment could not be aligned' };
  const table = headers.map((h) => ({ ...h, offset: h.filesz ? moved(h.offset) : h.offset }));
  const writeTable = (at) =>
    table.forEach((e, i) => {
      const o = at + i * phentsize;
      out.writeUInt32LE(e.type, o);
      out.writeUInt32LE(e.flags, o + 4);
      [e.offset, e.vaddr, e.paddr, e.filesz, e.memsz, e.align].forEach((v, k) => out.writeBigUInt64LE(BigInt(v), o + 8 + 8 * k));
    });
  if (!head) {
    writeTable(phoff);
    return { elf: out, stub: false, why: machine !== EM_X86_64 ? 'the entry stub is x86-64 code' : 'the entry point is not in the text, or the first segment is not the headers\' read-only one' };
  }

  const ranges = huge.map((h) => [h.vaddr - (h.vaddr % PAGE), Math.ceil((h.vaddr + h.memsz) / PAGE) * PAGE - (h.vaddr - (h.vaddr % PAGE))]);
  const vaddr = (offset) => head.bias + offset;
  if (ranges.some(([s, l]) => s + l >= 2 ** 31) || vaddr(head.stubAt) + PAGE >= 2 ** 31) return { elf: null, why: 'segments above 2 GiB' };
  stub(vaddr(head.stubAt), ranges, block, entry).copy(out, head.stubAt);

  // The interpreter's name and the notes, copied into the head's first page;
  // their program headers (and sections) point at the copies.
  for (const { h, at } of head.small) {
    elf.copy(out, head.start + at, h.offset, h.offset + h.filesz);
    const e = table[headers.indexOf(h)];
    for (const x of sections.filter((x) => x.offset >= h.offset && x.offset + x.size <= h.offset + h.filesz && x.size))
      rebase(out, moved(x.at), vaddr(head.start + at + x.offset - h.offset), head.start + at + x.offset - h.offset);
    Object.assign(e, { offset: head.start + at, vaddr: vaddr(head.start + at), paddr: vaddr(head.start + at) });
  }
  // The dynamic linker's tables, copied; .dynamic and the section headers pointed at the copies.
  const tablesAt = head.start + head.phdrPages;
  if (head.tables.length) {
    elf.copy(out, tablesAt, head.lo, head.hi);
    const [loAddr, hiAddr] = [first.vaddr + head.lo, first.vaddr + head.hi];
    const dynamic = headers.find((h) => h.type === PT_DYNAMIC);
    for (let d = moved(dynamic?.offset ?? 0); dynamic && d + 16 <= moved(dynamic.offset) + dynamic.filesz; d += 16) {
      const tag = Number(out.readBigUInt64LE(d));
      if (tag === 0) break;
      const value = Number(out.readBigUInt64LE(d + 8));
      if (TABLE_TAGS.includes(tag) && value >= loAddr && value < hiAddr) out.writeBigUInt64LE(BigInt(vaddr(tablesAt) + value - loAddr), d + 8);
    }
    for (const x of head.tables) rebase(out, moved(x.at), vaddr(tablesAt + x.offset - head.lo), tablesAt + x.offset - head.lo);
  }

  // The program headers, in the head, with its two segments after the last PT_LOAD.
  const phdr = table.find((e) => e.type === PT_PHDR);
  if (phdr) Object.assign(phdr, { offset: head.start, vaddr: vaddr(head.start), paddr: vaddr(head.start), filesz: head.count * phentsize, memsz: head.count * phentsize });
  const load = (flags, offset, size) => ({ type: PT_LOAD, flags, offset, vaddr: vaddr(offset), paddr: vaddr(offset), filesz: size, memsz: size, align: PAGE });
  table.splice(table.findLastIndex((e) => e.type === PT_LOAD) + 1, 0, load(PF_R, head.start, head.phdrPages + head.tablePages), load(PF_R | PF_X, head.stubAt, head.codeLength));
  writeTable(head.start);
  out.writeBigUInt64LE(BigInt(head.start), 32);
  out.writeUInt16LE(head.count, 56);
  out.writeBigUInt64LE(BigInt(vaddr(head.stubAt)), 24);
  return envWhy ? { elf: out, stub: true, env: false, why: envWhy } : { elf: out, stub: true, env: Boolean(block) };
}

/** Points the section header at `at` (in `out`) at a new address and file offset. */
function rebase(out, at, addr, offset) {
  out.writeBigUInt64LE(BigInt(addr), at + 16);
  out.writeBigUInt64LE(BigInt(offset), at + 24);
}
