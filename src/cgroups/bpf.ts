// The cgroup v2 device filter: a BPF_PROG_TYPE_CGROUP_DEVICE program, built
// here as raw instructions (after runc's devicefilter.go, itself after
// crun's ebpf.c). The kernel calls it with a struct bpf_cgroup_dev_ctx
// { u32 access_type; u32 major; u32 minor; } in R1 and allows the access when
// it returns 1.
//
// Loading and attaching it (bpf(BPF_PROG_LOAD, license "Apache") and
// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) on the
// container's cgroup directory fd) is the addon's job: attachDeviceFilter.
import { DeviceEmulator, type DeviceRule } from './devices.ts';

// <linux/bpf.h>
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;
const BPF_DEVCG_ACC_MKNOD = 1;
const BPF_DEVCG_ACC_READ = 2;
const BPF_DEVCG_ACC_WRITE = 4;

// Opcodes: class | op | source.
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
  AND32_IMM: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_IMM: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_IMM: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32_REG: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JNE_IMM: 0x55, // BPF_JMP | BPF_JNE | BPF_K: if dst != imm goto pc+1+off
  JNE_REG: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** a forward jump to the start of block n (resolved into off) */
  toBlock?: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number, toBlock?: number): Insn => ({ code, dst, src, off, imm, toBlock });

/**
 * The program for a rule list, as the 8-byte struct bpf_insn array the kernel
 * takes: { u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm; }, little endian.
 */
export function deviceFilter(rules: DeviceRule[]): Buffer {
  // The emulator reduces the rules to a default and non-overlapping
  // exceptions, so the program behaves exactly like a v1 devices cgroup.
  const emu = DeviceEmulator.build(rules);
  const defaultAllow = emu.isBlacklist;
  const prog: Insn[] = [
    insn(OP.LDXW, 2, 1, 0, 0), // R2 = access_type
    insn(OP.AND32_IMM, 2, 0, 0, 0xffff), // R2 = device type (low 16 bits)
    insn(OP.LDXW, 3, 1, 0, 0),
    insn(OP.RSH32_IMM, 3, 0, 0, 16), // R3 = access (high 16 bits)
    insn(OP.LDXW, 4, 1, 4, 0), // R4 = major
    insn(OP.LDXW, 5, 1, 8, 0), // R5 = minor
  ];
  const blockStart: number[] = [];
  let block = 0;
  for (const r of emu.cleanRules()) {
    // The one wildcard a clean list can start with only sets the default.
    if (r.type === 'a') continue;
    blockStart[block] = prog.length;
    const next = block + 1;
    prog.push(insn(OP.JNE_IMM, 2, 0, 0, r.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, next));
    let access = 0;
    for (const ch of r.access) access |= ch === 'r' ? BPF_DEVCG_ACC_READ : ch === 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    // Every requested access bit must be in the rule's (rwm needs no test).
    if (access !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      prog.push(insn(OP.MOV32_REG, 1, 3, 0, 0)); // R1 = R3 (R1 is free once the context is read)
      prog.push(insn(OP.AND32_IMM, 1, 0, 0, access));
      prog.push(insn(OP.JNE_REG, 1, 3, 0, 0, next)); // some access bit outside the rule
    }
    if (r.major >= 0) prog.push(insn(OP.JNE_IMM, 4, 0, 0, r.major | 0, next));
    if (r.minor >= 0) prog.push(insn(OP.JNE_IMM, 5, 0, 0, r.minor | 0, next));
    prog.push(insn(OP.MOV32_IMM, 0, 0, 0, r.allow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
    block++;
  }
  blockStart[block] = prog.length;
  prog.push(insn(OP.MOV32_IMM, 0, 0, 0, defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));

  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    const off = p.toBlock !== undefined ? blockStart[p.toBlock] - (i + 1) : p.off;
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8(((p.src & 0xf) << 4) | (p.dst & 0xf), i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(p.imm | 0, i * 8 + 4);
  });
  return buf;
}
