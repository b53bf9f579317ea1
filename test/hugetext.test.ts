// dist/tsrunc laid out for 2 MiB pages (scripts/elf-hugetext.mjs): its
// read-only segments aligned in the file, and an entry stub that asks for
// huge pages before Bun's code runs, so that a start maps the code by PMD
// whether the page cache was filled by a write or by the execs after a boot;
// the same stub puts STUB_ENV (Bun's JIT off) first in the environment.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUN_BUILD_FLAGS, STUB_ENV, findBun } from '../scripts/bun-compile.mjs';
import { HEAD_GAP, hugeText } from '../scripts/elf-hugetext.mjs';
import { repo } from './lib/harness.ts';

const HUGE = 0x200000;

interface Segment { type: number; flags: number; offset: number; vaddr: number; filesz: number }
function programHeaders(elf: Buffer): Segment[] {
  const phoff = Number(elf.readBigUInt64LE(32));
  const out: Segment[] = [];
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    const at = phoff + i * 56;
    out.push({ type: elf.readUInt32LE(at), flags: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 8)), vaddr: Number(elf.readBigUInt64LE(at + 16)), filesz: Number(elf.readBigUInt64LE(at + 32)) });
  }
  return out;
}
const segments = (elf: Buffer) => programHeaders(elf).filter((h) => h.type === 1);

/** Where the executable sections (SHF_EXECINSTR) end, as an address. */
function codeEnd(elf: Buffer): number {
  const shoff = Number(elf.readBigUInt64LE(40));
  let end = 0;
  for (let i = 0; i < elf.readUInt16LE(60); i++) {
    const at = shoff + i * 64;
    if (Number(elf.readBigUInt64LE(at + 8)) & 4) end = Math.max(end, Number(elf.readBigUInt64LE(at + 16)) + Number(elf.readBigUInt64LE(at + 32)));
  }
  return end;
}

/** The address of a defined symbol in the executable's .dynsym, or 0. */
function dynamicSymbol(elf: Buffer, wanted: string): number {
  const shoff = Number(elf.readBigUInt64LE(40));
  const section = (i: number) => {
    const at = shoff + i * 64;
    return { type: elf.readUInt32LE(at + 4), offset: Number(elf.readBigUInt64LE(at + 24)), size: Number(elf.readBigUInt64LE(at + 32)), link: elf.readUInt32LE(at + 40) };
  };
  for (let i = 0; i < elf.readUInt16LE(60); i++) {
    const dynsym = section(i);
    if (dynsym.type !== 11) continue;
    const strtab = section(dynsym.link).offset;
    for (let at = dynsym.offset; at < dynsym.offset + dynsym.size; at += 24) {
      const name = elf.subarray(strtab + elf.readUInt32LE(at), elf.indexOf(0, strtab + elf.readUInt32LE(at))).toString('latin1');
      if (name === wanted && elf.readUInt16LE(at + 6) !== 0) return Number(elf.readBigUInt64LE(at + 8));
    }
  }
  return 0;
}

/** A section by name: its address, offset and size; undefined where there is none. */
function section(elf: Buffer, wanted: string): { addr: number; offset: number; size: number } | undefined {
  const shoff = Number(elf.readBigUInt64LE(40));
  const names = Number(elf.readBigUInt64LE(shoff + elf.readUInt16LE(62) * 64 + 24));
  for (let i = 0; i < elf.readUInt16LE(60); i++) {
    const at = shoff + i * 64;
    const nameAt = names + elf.readUInt32LE(at);
    if (elf.subarray(nameAt, elf.indexOf(0, nameAt)).toString('latin1') === wanted)
      return { addr: Number(elf.readBigUInt64LE(at + 16)), offset: Number(elf.readBigUInt64LE(at + 24)), size: Number(elf.readBigUInt64LE(at + 32)) };
  }
  return undefined;
}

/**
 * read_ahead_kb of the block device that holds `dir`, where sysfs says; where
 * it does not (overlayfs, as in a container, tmpfs and the like), the largest
 * of any block device's, which the file's real one cannot exceed.
 */
function readAheadKb(dir: string): number | undefined {
  const dev = statSync(dir).dev;
  const [major, minor] = [Math.floor(dev / 256) & 0xfff, (dev & 0xff) | ((Math.floor(dev / 4096) & 0xfff00))];
  try {
    const node = realpathSync(`/sys/dev/block/${major}:${minor}`);
    for (const q of [`${node}/queue/read_ahead_kb`, `${dirname(node)}/queue/read_ahead_kb`]) if (existsSync(q)) return Number(readFileSync(q, 'utf8'));
  } catch {}
  let most: number | undefined;
  try {
    for (const d of readdirSync('/sys/block')) {
      const q = `/sys/block/${d}/queue/read_ahead_kb`;
      if (existsSync(q)) most = Math.max(most ?? 0, Number(readFileSync(q, 'utf8')));
    }
  } catch {}
  return most;
}

/** .dynamic's entries, [tag, value], up to DT_NULL. */
function dynamicEntries(elf: Buffer): [number, number][] {
  const phoff = Number(elf.readBigUInt64LE(32));
  for (let i = 0; i < elf.readUInt16LE(56); i++) {
    const at = phoff + i * 56;
    if (elf.readUInt32LE(at) !== 2) continue;
    const out: [number, number][] = [];
    for (let d = Number(elf.readBigUInt64LE(at + 8)); ; d += 16) {
      const tag = Number(elf.readBigUInt64LE(d));
      if (tag === 0) return out;
      out.push([tag, Number(elf.readBigUInt64LE(d + 8))]);
    }
  }
  return [];
}

const dist = join(repo, 'dist/tsrunc');
const bunBuilt = existsSync(dist) && /^bun: /m.test(spawnSync(dist, ['--version'], { encoding: 'utf8' }).stdout ?? '');

describe('hugetext: the layout of dist/tsrunc', () => {
  it("read-only segments aligned to 2 MiB; the program headers, ld.so's tables and the stub in a head of their own, away from them; the stub jumps to Bun's entry", (ctx) => {
    if (!bunBuilt) return ctx.skip('dist/tsrunc is the Node launcher here (TSRUNC_ENGINE=node, or no working Bun)');
    if (process.arch !== 'x64') return ctx.skip('the entry stub is x86-64 code');
    const elf = readFileSync(dist);
    const loads = segments(elf);
    const entry = Number(elf.readBigUInt64LE(24));
    const phoff = Number(elf.readBigUInt64LE(32));
    // The head: a read-only segment that holds the program headers, then the
    // stub's, executable, both above every other segment.
    const stubSeg = loads.find((s) => entry >= s.vaddr && entry < s.vaddr + s.filesz)!;
    const headSeg = loads.find((s) => phoff >= s.offset && phoff < s.offset + s.filesz)!;
    expect(stubSeg.flags).toBe(5);
    expect(headSeg.flags).toBe(4);
    expect(stubSeg.vaddr).toBe(headSeg.vaddr + headSeg.filesz);
    const rest = loads.filter((s) => s !== stubSeg && s !== headSeg);
    for (const s of rest) expect(headSeg.vaddr).toBeGreaterThanOrEqual(s.vaddr + s.filesz);
    // AT_PHDR: kernels before 5.18 take it as the first segment's address - offset, plus e_phoff.
    expect(headSeg.vaddr - headSeg.offset).toBe(loads[0].vaddr - loads[0].offset);
    // Every other read-only segment is aligned, the first one too, which
    // leaves the ELF header's 2 MiB block of the file to it.
    const readOnly = rest.filter((s) => !(s.flags & 2));
    for (const s of readOnly) expect((s.vaddr - s.offset) % HUGE).toBe(0);
    // The interpreter's name and the notes (read before the stub, by the kernel and ld.so) are in the head too.
    const phdrs = programHeaders(elf);
    for (const type of [3, 4]) for (const h of phdrs.filter((h) => h.type === type)) {
      expect(h.offset).toBeGreaterThanOrEqual(headSeg.offset);
      expect(h.offset + h.filesz).toBeLessThanOrEqual(headSeg.offset + headSeg.filesz);
      expect(h.vaddr - headSeg.vaddr).toBe(h.offset - headSeg.offset);
    }
    // Away from them in the file: what ld.so reads around before the stub runs
    // (the head, the writable segment) begins HEAD_GAP after the 2 MiB block
    // where the last of them ends; and none shares the headers' 2 MiB block.
    const roEnd = Math.max(...readOnly.map((s) => s.offset + s.filesz));
    expect(headSeg.offset).toBeGreaterThanOrEqual(Math.ceil(roEnd / HUGE) * HUGE + HEAD_GAP);
    for (const s of rest.filter((s) => s.flags & 2)) expect(s.offset).toBeGreaterThan(headSeg.offset);
    for (const s of readOnly) expect(s.offset).toBeGreaterThanOrEqual(HUGE);
    // .dynamic's tables (symbols, strings, hashes, relocations, versions) point into the head.
    for (const [tag, value] of dynamicEntries(elf)) {
      if (![4, 5, 6, 7, 23, 0x6ffffef5, 0x6ffffff0, 0x6ffffffc, 0x6ffffffe].includes(tag)) continue;
      expect(value, `tag ${tag.toString(16)}`).toBeGreaterThanOrEqual(headSeg.vaddr);
      expect(value, `tag ${tag.toString(16)}`).toBeLessThan(headSeg.vaddr + headSeg.filesz);
    }
    // The stub (scripts/elf-hugetext.mjs), read back: mov r8, rdx; then for each
    // aligned read-only segment madvise(its pages, MADV_HUGEPAGE); mov rdx, r8; jmp into the text.
    const code = elf.subarray(stubSeg.offset + (entry - stubSeg.vaddr), stubSeg.offset + stubSeg.filesz);
    expect(code.subarray(0, 3).toString('hex')).toBe('4989d0');
    let at = 3;
    for (const s of readOnly) {
      const start = s.vaddr - (s.vaddr % 0x1000);
      expect(code.subarray(at, at + 22).toString('hex')).toBe(
        ['b8', 28, 'bf', start, 'be', code.readUInt32LE(at + 11), 'ba', 14, '0f05'].map((x) => (typeof x === 'number' ? Buffer.from(new Uint32Array([x]).buffer).toString('hex') : x)).join(''),
      );
      expect(start + code.readUInt32LE(at + 11)).toBeGreaterThanOrEqual(s.vaddr + s.filesz);
      at += 22;
    }
    // The environment block (STUB_ENV): the frame copied below itself, `environ`
    // (the executable's own, at an address in the file) pointed at the copy's envp.
    expect(code[at]).toBe(0xfc);
    const environAt = code.indexOf(Buffer.from('48893c25', 'hex'), at);
    expect(environAt).toBeGreaterThan(at);
    const environ = code.readUInt32LE(environAt + 4);
    expect(environ).toBe(dynamicSymbol(elf, 'environ'));
    at = code.indexOf(Buffer.from('4c89c2e9', 'hex'), environAt);
    expect(at).toBeGreaterThan(environAt);
    const target = entry + at + 8 + code.readInt32LE(at + 4);
    const text = loads.find((s) => s.flags & 1 && s !== stubSeg)!;
    expect(target).toBeGreaterThanOrEqual(text.vaddr);
    expect(target).toBeLessThan(codeEnd(elf));
    // Its strings follow the jump, each NUL-terminated.
    expect(code.subarray(at + 8, at + 8 + STUB_ENV.join('\0').length + 1).toString('latin1')).toBe(`${STUB_ENV.join('\0')}\0`);
  });

  it('leaves as it is what it cannot lay out, and says why', () => {
    expect(hugeText(Buffer.from('#!/bin/sh\nexit 0\n'))).toEqual({ elf: null, why: 'not an ELF file' });
    // Node is position-independent: its load address is not in the file.
    const node = readFileSync(process.execPath);
    if (node.readUInt16LE(16) === 3) expect(hugeText(node).why).toMatch(/position-independent/);
    if (bunBuilt) expect(hugeText(readFileSync(dist))).toEqual({ elf: null, why: 'already aligned, with its entry stub' });
  });
});

describe('hugetext: what the kernel makes of it', () => {
  // Beside the checkout's build, on the filesystem an install would use (os.tmpdir() may be a tmpfs).
  const work = (() => {
    try {
      return mkdtempSync(join(repo, 'build', 'hugetext-'));
    } catch {
      return '';
    }
  })();
  afterAll(() => work && rmSync(work, { recursive: true, force: true }));

  /** FilePmdMapped of a run of `exe`, in kB: how much of its files the process maps with 2 MiB entries. */
  const pmdMapped = (exe: string): number => {
    const r = spawnSync(exe, [], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return Number(r.stdout.trim());
  };
  /** Out of the page cache, as after a boot (POSIX_FADV_DONTNEED; no process maps these files). */
  const drop = (file: string) => expect(spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']).status).toBe(0);

  it('a start maps its code by 2 MiB pages, as many after its pages were dropped and read back by an exec as after a write; Bun\'s own layout none', (ctx) => {
    if (!work) return ctx.skip(`cannot make a directory under ${join(repo, 'build')} (run scripts/setup.sh)`);
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    if (!existsSync(thp)) return ctx.skip('this kernel has no transparent huge pages');
    if (readFileSync(thp, 'utf8').includes('[never]')) return ctx.skip('transparent huge pages are off here (transparent_hugepage=never)');
    if (!existsSync('/proc/self/smaps_rollup')) return ctx.skip('no /proc/self/smaps_rollup (kernel before 4.14)');
    // PR_SET_THP_DISABLE is inherited: a runner that set it leaves no huge page to any child.
    if (/^THP_enabled:\s*0$/m.test(readFileSync('/proc/self/status', 'utf8'))) return ctx.skip('transparent huge pages are disabled for this process (prctl PR_SET_THP_DISABLE, inherited)');
    const bun = findBun(repo);
    if (!bun) return ctx.skip('the `bun` package does not run here');
    // A program of the same Bun, built with tsrunc's flags, that says how much of it is mapped by PMD.
    mkdirSync(join(work, 'src'));
    writeFileSync(join(work, 'src/main.js'), "import { readFileSync } from 'node:fs';\nconsole.log(/FilePmdMapped:\\s+(\\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]);\n");
    const b = spawnSync(bun.bin, ['build', ...BUN_BUILD_FLAGS, 'src/main.js', '--outfile', 'plain'], { cwd: work, encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const laid = hugeText(readFileSync(join(work, 'plain')));
    expect(laid.elf, laid.why).not.toBeNull();
    if (!laid.stub) return ctx.skip(`the executable is aligned but has no entry stub here (${laid.why})`);
    const aligned = join(work, 'aligned');
    writeFileSync(aligned, laid.elf!, { mode: 0o755 });
    // Written in one write, the page cache holds it in 2 MiB folios where the filesystem makes them.
    if (pmdMapped(aligned) === 0)
      return ctx.skip(`the page cache under ${work} holds no 2 MiB folios of a file written whole (a filesystem without large folios: ext4 before Linux 6.16, tmpfs without huge=)`);
    const written = pmdMapped(aligned);
    // ld.so's tables are copies: the same bytes, where .dynamic now says.
    const plainElf = readFileSync(join(work, 'plain'));
    for (const name of ['.dynsym', '.dynstr', '.gnu.hash', '.rela.plt']) {
      const [was, now] = [section(plainElf, name), section(laid.elf!, name)];
      if (!was) continue;
      expect(now!.addr, name).not.toBe(was.addr);
      expect(laid.elf!.subarray(now!.offset, now!.offset + now!.size).equals(plainElf.subarray(was.offset, was.offset + was.size)), name).toBe(true);
    }
    const plain = join(work, 'plain');
    for (const exe of [aligned, plain]) {
      drop(exe);
      pmdMapped(exe); // the first start after a "boot" reads the pages back
    }
    expect(pmdMapped(plain)).toBe(0);
    // What ld.so touches before the stub's madvise is read around in 4 kB
    // folios; the layout keeps that from the read-only segments up to a
    // read_ahead_kb of twice HEAD_GAP.
    const ra = readAheadKb(work);
    if (ra !== undefined && ra * 1024 > 2 * HEAD_GAP) return ctx.skip(`read_ahead_kb of ${work}'s device (or, where sysfs does not say which, of the largest) is ${ra}: more than the layout keeps the read-only segments clear of (${(2 * HEAD_GAP) / 1024})`);
    expect(pmdMapped(aligned)).toBe(written);
  }, 60_000);

  it("the stub's environment reaches Bun before it starts: JavaScriptCore maps no JIT region; the program's argv and environment are as given", (ctx) => {
    if (!work) return ctx.skip(`cannot make a directory under ${join(repo, 'build')} (run scripts/setup.sh)`);
    if (process.arch !== 'x64') return ctx.skip('the entry stub is x86-64 code');
    const bun = findBun(repo);
    if (!bun) return ctx.skip('the `bun` package does not run here');
    // A program of the same Bun that reports its writable-and-executable mappings
    // (JavaScriptCore's JIT region), its argv and what it sees of BUN_JSC_useJIT.
    mkdirSync(join(work, 'env'));
    writeFileSync(
      join(work, 'env/main.js'),
      "import { readFileSync } from 'node:fs';\n" +
        "console.log(JSON.stringify({ rwx: readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => / rwxp /.test(l)).length, argv: process.argv.slice(2), mark: process.env.TSRUNC_MARK }));\n",
    );
    const b = spawnSync(bun.bin, ['build', ...BUN_BUILD_FLAGS, 'env/main.js', '--outfile', 'env-plain'], { cwd: work, encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const run = (exe: string) => {
      const r = spawnSync(exe, ['a b', '', 'c'], { encoding: 'utf8', env: { ...process.env, TSRUNC_MARK: 'x' } });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const laid = hugeText(readFileSync(join(work, 'env-plain')), { env: STUB_ENV });
    expect(laid.stub && laid.env, laid.why).toBe(true);
    writeFileSync(join(work, 'env-stub'), laid.elf!, { mode: 0o755 });
    const noEnv = hugeText(readFileSync(join(work, 'env-plain')));
    writeFileSync(join(work, 'env-none'), noEnv.elf!, { mode: 0o755 });
    const stubbed = run(join(work, 'env-stub'));
    expect({ argv: stubbed.argv, mark: stubbed.mark }).toEqual({ argv: ['a b', '', 'c'], mark: 'x' });
    // Without the block, as Bun made it, the JIT's region is there: what makes the check below able to fail.
    const none = run(join(work, 'env-none')).rwx;
    if (none === 0) return ctx.skip('JavaScriptCore maps no writable and executable region here even with its JIT on (W^X enforced by the kernel or a security module?): the JIT cannot be told apart');
    expect(run(join(work, 'env-plain')).rwx).toBeGreaterThan(0);
    expect(stubbed.rwx).toBe(0);
  }, 60_000);
});
