// The Bun executable without the libraries that glibc 2.34 emptied: used by
// scripts/bun-compile.mjs on the executable it lays out; no dependencies,
// since it ships.
//
// Why: Bun's executable names libpthread.so.0 and libdl.so.2 as needed
// (DT_NEEDED), for the glibc releases before 2.34 that kept pthreads and
// dlopen there. Since 2.34 libc.so.6 holds both, under the same symbol
// versions, and those two files are stubs with nothing in them. ld.so still
// opens and maps each (eight system calls, four mappings), and every start
// pays for those mappings again: glibc's pthread_getattr_np, which
// JavaScriptCore calls twice as it starts, reads /proc/self/maps, and the
// kernel writes a line with the file's path for each mapping. Without the
// two: 42 mappings instead of 52 in a running tsrunc, and `state` 3.73 ->
// 3.56 ms and 3.29 -> 3.19 (two 300-round runs, interleaved, back to back).
//
// What changes, in a copy: the two DT_NEEDED entries leave .dynamic (the
// entries after them move up, DT_NULL fills the end), and the two entries of
// the version needs (.gnu.version_r) that named those files name libc.so.6
// instead, so that ld.so checks the same versions (GLIBC_2.2.5, GLIBC_2.12)
// against the library that now defines them. ld.so binds a versioned symbol
// in whichever loaded object defines that version of it; the file name in a
// version need is only checked to be loaded. Nothing else moves.
//
// Only where it holds: the caller runs the result under ld.so's own check
// (`verifyLinks`: every symbol bound at once, as `ldd -r` does) before it
// keeps it, so on a glibc before 2.34 (where libc.so.6 has no pthread_create)
// the executable stays as Bun made it. The executable is then made for this
// host's C library, as it is made for this host's page size: built on a
// glibc 2.34 or later and copied to an older one, it would not start.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/** glibc's libraries that are empty stubs since 2.34 and that Bun names. */
export const GLIBC_STUBS = ['libpthread.so.0', 'libdl.so.2'];

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_VERNEED = 0x6ffffffen;
const DT_VERNEEDNUM = 0x6fffffffn;

/**
 * A copy of the ELF64 little-endian executable `elf` without the DT_NEEDED
 * entries in `names`, its version needs of those files moved to libc.so.6:
 * { elf, dropped } where at least one was there, else { why }.
 */
export function dropNeeded(elf, names = GLIBC_STUBS) {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return { why: 'not a 64-bit little-endian ELF file' };
  const phoff = Number(elf.readBigUInt64LE(32));
  const headers = [];
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    const at = phoff + i * elf.readUInt16LE(54);
    headers.push({ type: elf.readUInt32LE(at), offset: Number(elf.readBigUInt64LE(at + 8)), vaddr: Number(elf.readBigUInt64LE(at + 16)), filesz: Number(elf.readBigUInt64LE(at + 32)) });
  }
  const dynamic = headers.find((h) => h.type === PT_DYNAMIC);
  if (!dynamic) return { why: 'no dynamic section' };
  /** The file offset of an address, through the PT_LOAD that maps it from the file. */
  const fileOffset = (addr) => {
    const load = headers.find((h) => h.type === PT_LOAD && addr >= h.vaddr && addr < h.vaddr + h.filesz);
    if (!load) throw new Error(`address 0x${addr.toString(16)} is not in the file`);
    return load.offset + (addr - load.vaddr);
  };
  const entries = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
    const tag = elf.readBigInt64LE(at);
    entries.push({ tag, value: elf.readBigUInt64LE(at + 8) });
    if (tag === DT_NULL) break;
  }
  const first = (tag) => entries.find((e) => e.tag === tag)?.value;
  if (first(DT_STRTAB) === undefined) return { why: 'no dynamic string table' };
  const strtab = fileOffset(Number(first(DT_STRTAB)));
  const name = (offset) => elf.subarray(strtab + offset, elf.indexOf(0, strtab + offset)).toString('latin1');

  const dropped = entries.filter((e) => e.tag === DT_NEEDED && names.includes(name(Number(e.value)))).map((e) => name(Number(e.value)));
  if (!dropped.length) return { why: `it needs none of ${names.join(', ')}` };
  const libc = entries.find((e) => e.tag === DT_NEEDED && name(Number(e.value)) === 'libc.so.6');
  if (!libc) return { why: 'it does not need libc.so.6' };

  const out = Buffer.from(elf);
  const kept = entries.filter((e) => !(e.tag === DT_NEEDED && names.includes(name(Number(e.value)))));
  for (let i = 0; i < entries.length; i++) {
    const e = kept[i] ?? { tag: DT_NULL, value: 0n };
    out.writeBigInt64LE(e.tag, dynamic.offset + i * 16);
    out.writeBigUInt64LE(e.value, dynamic.offset + i * 16 + 8);
  }
  // Elf64_Verneed: vn_version (2), vn_cnt (2), vn_file (4), vn_aux (4), vn_next (4).
  const verneed = first(DT_VERNEED);
  if (verneed !== undefined) {
    let at = fileOffset(Number(verneed));
    for (let i = 0; i < Number(first(DT_VERNEEDNUM) ?? 0n); i++) {
      if (names.includes(name(elf.readUInt32LE(at + 4)))) out.writeUInt32LE(Number(libc.value), at + 4);
      const next = elf.readUInt32LE(at + 12);
      if (!next) break;
      at += next;
    }
  }
  return { elf: out, dropped };
}

/**
 * Whether ld.so loads the executable at `path` with every symbol bound: its
 * list of libraries with LD_BIND_NOW and LD_WARN (what `ldd -r` asks), which
 * ends before the program's entry. Returns null where it does, else ld.so's
 * words.
 */
export function verifyLinks(path) {
  const r = spawnSync(resolve(path), [], { encoding: 'utf8', env: { LD_TRACE_LOADED_OBJECTS: '1', LD_BIND_NOW: '1', LD_WARN: '1' }, timeout: 30_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) return r.error.message;
  if (r.status !== 0) return output.trim() || `exit ${r.status ?? r.signal}`;
  const missing = output.split('\n').filter((l) => /undefined symbol|not found/.test(l));
  return missing.length ? missing.join('\n').trim() : null;
}
