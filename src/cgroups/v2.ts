// The cgroup v2 manager (unified hosts): one directory, controllers enabled
// in cgroup.subtree_control on the way down, the same files and conversions
// as runc's libcontainer/cgroups/fs2 and the kernel's cgroup-v2.rst.
//
// The hierarchy's root is record.mount, not a constant, so that this code can
// be exercised inside any cgroup2 tree (the tests use a private subtree of the
// hybrid hierarchy on a v1 host).
import { debugEnabled, logDebug } from '../util/log.ts';
import { closeSync, openSync, constants as fsc } from '../util/fs.ts';
import { posix } from '../util/path.ts';
import { addon } from '../addon.ts';
import { deviceFilter } from './bpf.ts';
import type { DeviceRule } from './devices.ts';
import { CgroupError, realIO, u64, type CgroupIO } from './fs.ts';
import { levels, ownCgroups, subCgroupDir, type SubCgroups } from './path.ts';
import { freezeCgroup, thawCgroup } from './freezer.ts';
import { recordPids } from './record.ts';
import { destroyRecord, killRecord } from './teardown.ts';
import type { CgroupEntry, CgroupManager, CgroupRecord, Resources } from './types.ts';
import { blkioToIoWeight, numToStr, pidsMax, sharesToWeight, swapToV2 } from './resources.ts';

/** The controllers a resource set needs: a threaded cgroup cannot have the domain ones. */
function domainControllersNeeded(r: Resources): boolean {
  const m = r.memory;
  const memory = !!(m && (m.limit || m.reservation || m.swap));
  const b = r.blockIO;
  const io = !!(b && (b.weight || b.weightDevice?.length || b.throttleReadBpsDevice?.length || b.throttleWriteBpsDevice?.length || b.throttleReadIOPSDevice?.length || b.throttleWriteIOPSDevice?.length));
  const c = r.cpu;
  const cpu = !!(c && (c.shares || c.quota || c.period || c.burst !== undefined || c.idle !== undefined));
  return memory || io || cpu || !!r.hugepageLimits?.length;
}

export class V2Manager implements CgroupManager {
  constructor(
    readonly record: CgroupRecord,
    private readonly io: CgroupIO = realIO,
  ) {}

  get dir(): string {
    return this.record.paths[''];
  }

  private get mount(): string {
    return this.record.mount ?? '/sys/fs/cgroup';
  }

  private write(file: string, value: string, dir = this.dir): void {
    if (debugEnabled()) logDebug(`cgroup: write ${JSON.stringify(value)} to ${dir}/${file}`);
    this.io.write(`${dir}/${file}`, value);
  }

  private read(file: string, dir = this.dir): string {
    return this.io.read(`${dir}/${file}`);
  }

  private has(file: string, dir = this.dir): boolean {
    return this.io.exists(`${dir}/${file}`);
  }

  /**
   * runc's CreateCgroupPath: every level from the root down is made, checked
   * for a mode that forbids the domain controllers, and (but the last) gets
   * all the root's controllers enabled for its children. Controllers that
   * cannot be enabled are left off here; setting one of their limits fails
   * later with a clear error.
   */
  create(r: Resources): void {
    const controllers = this.read('cgroup.controllers', this.mount).trim().split(/\s+/).filter(Boolean);
    const chain = [this.mount, ...levels(this.mount, this.dir)];
    for (let i = 0; i < chain.length; i++) {
      const cur = chain[i];
      if (i > 0) {
        this.io.mkdir(cur);
        const type = this.has('cgroup.type', cur) ? this.read('cgroup.type', cur).trim() : 'domain';
        if (type === 'domain invalid') {
          // A cgroup made under one that has processes: usable only threaded.
          if (domainControllersNeeded(r)) throw new CgroupError(`cannot enter cgroupv2 "${cur}" with domain controllers -- it is in an invalid state`);
          try {
            this.write('cgroup.type', 'threaded', cur);
          } catch {}
        } else if ((type === 'domain threaded' || type === 'threaded') && domainControllersNeeded(r)) {
          throw new CgroupError(`cannot enter cgroupv2 "${cur}" with domain controllers -- it is in ${type} mode`);
        }
      }
      if (i < chain.length - 1 && controllers.length) {
        try {
          this.write('cgroup.subtree_control', controllers.map((c) => '+' + c).join(' '), cur);
        } catch {
          for (const c of controllers) {
            try {
              this.write('cgroup.subtree_control', '+' + c, cur);
            } catch {}
          }
        }
      }
    }
  }

  /**
   * Delegation (config-linux.md "Cgroup ownership"): the directory and the
   * files the kernel lists as safe to delegate (/sys/kernel/cgroup/delegate,
   * else the spec's three), those that exist, change owner. No other file:
   * the owner could raise its own limits.
   */
  delegate(uid: number, gid: number): void {
    let names = ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'];
    try {
      names = this.io.read('/sys/kernel/cgroup/delegate').split('\n').filter(Boolean);
    } catch {}
    this.io.chown(this.dir, uid, gid);
    for (const name of names) if (this.has(name)) this.io.chown(`${this.dir}/${name}`, uid, gid);
  }

  entry(sub?: SubCgroups): CgroupEntry {
    if (!sub) return { cgroupDir: this.dir };
    const named = [...sub.keys()].filter((c) => c !== '');
    if (named.length) throw new CgroupError(`exec --cgroup: cgroup v2 takes one path for all controllers, not one for ${named.join(', ')}`);
    const dir = subCgroupDir(this.dir, sub.get('') ?? '');
    if (!this.io.exists(dir)) throw new CgroupError(`exec --cgroup: ${dir} does not exist`);
    return { cgroupDir: dir };
  }

  /**
   * For exec, where the container's cgroup takes no process (clone3 fails
   * with EBUSY: the container enabled domain controllers for sub-cgroups of
   * its own, as systemd or a nested runtime in it does, and v2 allows no
   * process beside them): the cgroup its init is in now, as runc's
   * setnsProcess.start does. Unlike runc, only one inside the container's.
   */
  entryBeside(initPid: number): CgroupEntry {
    let initDir: string | undefined;
    try {
      const path = ownCgroups(this.io.read(`/proc/${initPid}/cgroup`)).get('');
      if (path !== undefined) initDir = posix.join(this.mount, path);
    } catch {}
    if (!initDir?.startsWith(this.dir + '/')) throw new CgroupError(`cannot join cgroup ${this.dir}: it has sub-cgroups with controllers, and init is in none of them`);
    return { cgroupDir: initDir };
  }

  /** The controllers enabled for the container's cgroup, for error messages. */
  private controllers(): Set<string> {
    try {
      return new Set(this.read('cgroup.controllers').trim().split(/\s+/));
    } catch {
      return new Set();
    }
  }

  /** A write that explains a missing controller rather than a missing file. */
  private set(file: string, value: string): void {
    try {
      this.write(file, value);
    } catch (e) {
      const c = file.split('.')[0];
      if ((e as CgroupError).code === 'ENOENT' && !this.controllers().has(c))
        throw new CgroupError(`cannot set ${file}: the ${c} controller is not available to the container's cgroup ${this.dir}`, 'ENOENT');
      throw e;
    }
  }

  apply(r: Resources, devices?: DeviceRule[]): void {
    // runc's order: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma, unified.
    if (r.pids?.limit !== undefined) this.set('pids.max', pidsMax(r.pids.limit));
    this.setMemory(r);
    this.setIo(r);
    this.setCpu(r);
    if (devices) this.setDevices(devices);
    if (r.cpu?.cpus) this.set('cpuset.cpus', r.cpu.cpus);
    if (r.cpu?.mems) this.set('cpuset.mems', r.cpu.mems);
    let rsvd = true;
    for (const h of r.hugepageLimits ?? []) {
      this.set(`hugetlb.${h.pageSize}.max`, String(h.limit));
      // The reservation limit (5.7+) too, where the kernel has it.
      if (!rsvd) continue;
      try {
        this.write(`hugetlb.${h.pageSize}.rsvd.max`, String(h.limit));
      } catch (e) {
        if ((e as CgroupError).code !== 'ENOENT') throw e;
        rsvd = false;
      }
    }
    for (const [dev, l] of Object.entries(r.rdma ?? {})) this.set('rdma.max', `${dev} hca_handle=${l.hcaHandles ?? 'max'} hca_object=${l.hcaObjects ?? 'max'}`);
    this.setUnified(r.unified);
  }

  private setMemory(r: Resources): void {
    const m = r.memory;
    if (!m) return;
    const limit = m.limit ?? 0;
    const swap = m.swap ?? 0;
    const reservation = m.reservation ?? 0;
    if (!limit && !swap && !reservation) return;
    if (m.checkBeforeUpdate && (limit > 0 || swap > 0) && this.has('memory.current')) {
      // A limit under the current usage would have the kernel OOM-kill at once.
      const usage = u64(this.read('memory.current'));
      if (swap > 0 && swap <= usage) throw new CgroupError(`rejecting memory+swap limit ${swap} <= usage ${usage}`);
      if (limit > 0 && limit <= usage) throw new CgroupError(`rejecting memory limit ${limit} <= usage ${usage}`);
    }
    let v2swap: number;
    try {
      v2swap = swapToV2(swap, limit);
    } catch (e) {
      throw new CgroupError((e as Error).message);
    }
    let swapStr = numToStr(v2swap);
    // memory == memory+swap: no swap at all (an empty write would mean the same, but never write one).
    if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0';
    if (swapStr !== '') {
      try {
        this.write('memory.swap.max', swapStr);
      } catch (e) {
        // Without swap accounting there is no file: "max" and "0" then hold anyway.
        if (!((e as CgroupError).code === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw e;
      }
    }
    if (numToStr(limit)) this.set('memory.max', numToStr(limit));
    if (numToStr(reservation)) this.set('memory.low', numToStr(reservation));
  }

  private setIo(r: Resources): void {
    const b = r.blockIO;
    if (!b) return;
    if (b.weight) {
      try {
        this.write('io.bfq.weight', String(b.weight));
      } catch (e) {
        // No BFQ: io.weight, on its own scale.
        if ((e as CgroupError).code !== 'ENOENT') throw e;
        this.set('io.weight', String(blkioToIoWeight(b.weight)));
      }
    }
    for (const wd of b.weightDevice ?? []) if (wd.weight) this.set('io.bfq.weight', `${wd.major}:${wd.minor} ${wd.weight}`);
    const throttles = [
      ['rbps', b.throttleReadBpsDevice],
      ['wbps', b.throttleWriteBpsDevice],
      ['riops', b.throttleReadIOPSDevice],
      ['wiops', b.throttleWriteIOPSDevice],
    ] as const;
    for (const [key, list] of throttles) for (const t of list ?? []) this.set('io.max', `${t.major}:${t.minor} ${key}=${t.rate}`);
  }

  private setCpu(r: Resources): void {
    const c = r.cpu;
    if (!c) return;
    if (c.shares) this.set('cpu.weight', String(sharesToWeight(c.shares)));
    if (c.idle !== undefined) this.set('cpu.idle', String(c.idle));
    let burst = '';
    if (c.burst !== undefined) {
      burst = String(c.burst);
      try {
        this.write('cpu.max.burst', burst);
        burst = '';
      } catch (e) {
        // A larger burst may need the new quota first: retry after it.
        if ((e as CgroupError).code !== 'EINVAL' || !c.quota) throw e;
      }
    }
    if (c.quota || c.period) {
      // "$MAX $PERIOD"; the kernel's default period is 100000 µs.
      this.set('cpu.max', `${c.quota && c.quota > 0 ? c.quota : 'max'} ${c.period || 100000}`);
      if (burst) this.write('cpu.max.burst', burst);
    }
  }

  // v2 has no devices files: an eBPF program on the cgroup decides.
  private setDevices(rules: DeviceRule[]): void {
    const fd = openSync(this.dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    try {
      addon('attachDeviceFilter')(fd, deviceFilter(rules));
    } finally {
      closeSync(fd);
    }
  }

  private setUnified(unified: Record<string, string> | undefined): void {
    for (const [key, value] of Object.entries(unified ?? {})) {
      if (key.includes('/')) throw new CgroupError(`unified resource ${JSON.stringify(key)} must be a file name (no slashes)`);
      try {
        // Multi-line values (io.max for two devices) are one write per line.
        for (const line of value.split('\n')) if (line !== '' || value === '') this.write(key, line);
      } catch (e) {
        const code = (e as CgroupError).code;
        if (code === 'ENOENT' || code === 'EPERM' || code === 'EACCES') {
          const dot = key.indexOf('.');
          if (dot < 0) throw new CgroupError(`unified resource ${JSON.stringify(key)} must be in the form CONTROLLER.PARAMETER`);
          const c = key.slice(0, dot);
          if (c !== 'cgroup' && !this.controllers().has(c)) throw new CgroupError(`unified resource ${JSON.stringify(key)} can't be set: controller ${JSON.stringify(c)} not available`);
        }
        throw new CgroupError(`unable to set unified resource ${JSON.stringify(key)}: ${(e as Error).message}`, code);
      }
    }
  }

  freeze(): void {
    freezeCgroup(this.record, this.io);
  }

  thaw(): void {
    thawCgroup(this.record, this.io);
  }

  frozen(): boolean {
    return this.has('cgroup.freeze') && this.read('cgroup.freeze').trim() === '1';
  }

  pids(): number[] {
    return recordPids(this.record, this.io);
  }

  exists(): boolean {
    return this.io.exists(this.dir);
  }

  kill(): void {
    killRecord(this.record, this.io);
  }

  destroy(): void {
    destroyRecord(this.record, this.io);
  }

}
