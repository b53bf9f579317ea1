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
// 2. An entry stub, x86-64 only. The file's entry point is moved to a few
//    instructions placed after the text, in the rest of its last page (a page
//    of zeros is inserted in the file there), or where that has no room, in
//    the padding before the text (mapped executable already, since the
//    text's first page starts there). They run before any of Bun's code:
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

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const HUGE = 0x200000; // the x86-64 and arm64 (4 kB granule) PMD size
const PAGE = 0x1000;
const EM_X86_64 = 62;
const SYS_MADVISE = 28;
const MADV_HUGEPAGE = 14;
const SHT_DYNSYM = 11;
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
export function hugeText(elf, { env = [] } = {}) {
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
  // Where the entry stub goes: after the text, in its last page (the room to
  // that page's end), or, where that is too small, before the text, in its
  // first page. After the text is better after a boot: the stub's page is the
  // first of the text that a start touches, and the kernel reads around that
  // fault (read_ahead_kb) in 4 kB folios before the stub's madvise runs. At
  // the text's start that read covers the code that follows (with an 8 MB
  // readahead, ~12 MB of it stayed in 4 kB folios); at its end, the pages
  // that ld.so's first touch of the writable segment (.dynamic, .got, in the
  // file right after the text) reads around anyway.
  const textEnd = text.vaddr + text.filesz;
  const endRoom = text.memsz === text.filesz ? (PAGE - (textEnd % PAGE)) % PAGE : 0;
  const startRoom = text.vaddr % PAGE;
  const stubLength = (block) => stub(0, loads.filter((h) => !(h.flags & PF_W)).map(() => [0, 0]), block, 0).length;
  const placeFor = (block) => (endRoom >= stubLength(block) ? 'end' : startRoom >= stubLength(block) ? 'start' : null);
  const entryFile = entry - text.vaddr + text.offset;
  if (entry >= text.vaddr && entry < textEnd && elf.subarray(entryFile, entryFile + 8).equals(STUB_HEAD)) return { elf: null, why: 'already aligned, with its entry stub' };
  const stubbable = machine === EM_X86_64 && entry >= text.vaddr && entry < textEnd;
  // The environment block: `environ` must be the executable's own, at an address in the file.
  let block = env.length ? { environ: environAddress(elf), strings: env } : null;
  let envWhy;
  if (block && !block.environ) envWhy = "the executable holds no environ of its own (no copy relocation of libc's)";
  else if (block && env.length > 15) envWhy = 'more than 15 environment entries';
  else if (block && stubbable && !placeFor(block)) envWhy = "no room for the environment block in the text's first or last page";
  if (envWhy) block = null;
  const place = stubbable ? placeFor(block) : null;
  const withStub = place !== null;

  // Padding before each read-only segment (writable ones are copied on write
  // and gain nothing), in file order: [offset in the old file, length]. With
  // the stub after the text, a page more after the text: in the file the
  // next segment may begin in the text's last page, where the stub goes.
  const inserts = [];
  let shift = 0;
  for (const h of loads) {
    if (h.flags & PF_W) continue;
    let pad = (((h.vaddr - (h.offset + shift)) % HUGE) + HUGE) % HUGE;
    // The stub before the text must lie in the padding, from the text's first page on.
    if (h === text && place === 'start' && pad < startRoom) pad += HUGE;
    // Headers cannot move: a segment that starts among them stays as it is.
    if (pad && h.offset >= headerEnd) {
      inserts.push([h.offset, pad]);
      shift += pad;
    }
    if (h === text && place === 'end') {
      inserts.push([text.offset + text.filesz, PAGE]);
      shift += PAGE;
    }
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
    return { elf: out, stub: false, why: machine !== EM_X86_64 ? 'the entry stub is x86-64 code' : "no room for the entry stub in the text's first or last page" };

  const ranges = loads
    .filter((h) => !(h.flags & PF_W))
    .map((h) => [h.vaddr - (h.vaddr % PAGE), Math.ceil((h.vaddr + h.memsz) / PAGE) * PAGE - (h.vaddr - (h.vaddr % PAGE))]);
  if (ranges.some(([s, l]) => s + l >= 2 ** 31)) return { elf: out, stub: false, why: 'segments above 2 GiB' };
  const at = place === 'end' ? textEnd : text.vaddr - startRoom;
  const code = stub(at, ranges, block, entry);
  if (place === 'end') {
    // In the page inserted after the text; the text segment grows to hold it.
    code.copy(out, moved(text.offset) + text.filesz);
    for (const field of [32, 40]) out.writeBigUInt64LE(BigInt(text.filesz + code.length), text.at + field);
  } else {
    // Only the padding inserted before the text is overwritten.
    const textPad = inserts.find(([o]) => o === text.offset)?.[1] ?? 0;
    if (textPad < startRoom) return { elf: out, stub: false, why: 'no padding before the text' };
    code.copy(out, moved(text.offset) - startRoom);
  }
  out.writeBigUInt64LE(BigInt(at), 24);
  return envWhy ? { elf: out, stub: true, env: false, why: envWhy } : { elf: out, stub: true, env: Boolean(block) };
}
