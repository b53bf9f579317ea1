// The cgroup v1 manager (v1 and hybrid hosts): one directory per hierarchy,
// the same files and the same order of writes as runc's libcontainer/cgroups/fs.
import { posix } from '../util/path.ts';
import { debugEnabled, logDebug } from '../util/log.ts';
import { DeviceEmulator, ruleString, type DeviceRule } from './devices.ts';
import { CgroupError, realIO, u64, type CgroupIO } from './fs.ts';
import { cpusetFile } from './v1-stats.ts';
import { isSwappiness, pidsMax } from './resources.ts';
import { subCgroupDir, type SubCgroups } from './path.ts';
import { freezeCgroup, thawCgroup } from './freezer.ts';
import { recordDirs, recordExists, recordPids } from './record.ts';
import { destroyRecord, killRecord } from './teardown.ts';
import type { CgroupEntry, CgroupManager, CgroupRecord, Resources } from './types.ts';

export class V1Manager implements CgroupManager {
  constructor(
    readonly record: CgroupRecord,
    private readonly io: CgroupIO = realIO,
  ) {}

  private dir(controller: string): string | undefined {
    return this.record.paths[controller];
  }

  /** The directory of a controller a resource needs, or runc's error when it has none. */
  private need(controller: string, what = controller): string {
    const d = this.dir(controller);
    if (!d) throw new CgroupError(`cannot set ${what} limit: container could not join or create cgroup (${this.record.denied?.[controller] ?? `no ${controller} hierarchy is mounted`})`);
    return d;
  }

  private write(dir: string, file: string, value: string): void {
    if (debugEnabled()) logDebug(`cgroup: write ${JSON.stringify(value)} to ${dir}/${file}`);
    this.io.write(`${dir}/${file}`, value);
  }

  private read(dir: string, file: string): string {
    return this.io.read(`${dir}/${file}`);
  }

  private has(dir: string, file: string): boolean {
    return this.io.exists(`${dir}/${file}`);
  }

  /** Each hierarchy's directory once (co-mounted controllers share one). */
  private dirs(): string[] {
    return recordDirs(this.record);
  }

  create(r: Resources): void {
    const cpuset = this.dir('cpuset');
    if (cpuset) this.createCpuset(cpuset, r);
    for (const d of this.record.owned) this.io.mkdir(d);
    for (const d of this.dirs()) if (!this.io.exists(d)) this.io.mkdir(d);
    // A process with a realtime policy may join only a cgroup with an RT budget.
    const cpu = this.dir('cpu');
    if (cpu) this.setRealtime(cpu, r);
  }

  /**
   * A new cpuset cgroup has empty cpus and mems, and no process may join it
   * until they are set: give each level the config's values or its parent's
   * (runc's cpusetEnsureParent / ensureCpusAndMems).
   */
  private createCpuset(leaf: string, r: Resources): void {
    const owned = new Set(this.record.owned);
    const chain = [leaf];
    for (let p = posix.dirname(leaf); p !== '/' && (owned.has(p) || this.has(p, this.cpusetFile(p, 'cpus'))); p = posix.dirname(p)) chain.unshift(p);
    for (let i = 1; i < chain.length; i++) {
      this.io.mkdir(chain[i]);
      if (i === chain.length - 1) this.setCpuset(chain[i], r);
      for (const f of ['cpus', 'mems']) {
        const file = this.cpusetFile(chain[i], f);
        if (this.read(chain[i], file).trim() === '') this.write(chain[i], file, this.read(chain[i - 1], this.cpusetFile(chain[i - 1], f)).trim());
      }
    }
  }

  private cpusetFile(dir: string, name: string): string {
    return cpusetFile(this.io, dir, name);
  }

  entry(sub?: SubCgroups): CgroupEntry {
    for (const c of sub?.keys() ?? []) if (c !== '' && !this.record.paths[c]) throw new CgroupError(`exec --cgroup: the container has no ${c} hierarchy`);
    // A hybrid host's cgroup2 directory has no tasks file: the child is cloned into it (CLONE_INTO_CGROUP).
    const unified = this.record.paths[''];
    const cgroupTasks = this.dirs()
      .filter((d) => d !== unified)
      .map((d) => `${this.subDir(d, sub)}/tasks`);
    return unified ? { cgroupTasks, cgroupDir: this.subDir(unified, sub) } : { cgroupTasks };
  }

  /** A hierarchy's directory, or the sub-cgroup of it that exec --cgroup names for its controllers. */
  private subDir(dir: string, sub: SubCgroups | undefined): string {
    if (!sub) return dir;
    const key = Object.keys(this.record.paths).find((c) => this.record.paths[c] === dir && sub.has(c)) ?? '';
    const d = subCgroupDir(dir, sub.get(key) ?? '');
    if (d === dir) return dir;
    if (!this.io.exists(d)) throw new CgroupError(`exec --cgroup: ${d} does not exist`);
    return d;
  }

  apply(r: Resources, devices?: DeviceRule[]): void {
    // runc's subsystem order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
    const cpuset = this.dir('cpuset');
    if (cpuset) this.setCpuset(cpuset, r);
    else if (r.cpu?.cpus || r.cpu?.mems) this.need('cpuset');
    if (devices) this.setDevices(this.need('devices', 'devices'), devices);
    this.setMemory(r);
    this.setCpu(r);
    if (r.pids?.limit !== undefined) this.write(this.need('pids'), 'pids.max', pidsMax(r.pids.limit));
    this.setBlkio(r);
    for (const h of r.hugepageLimits ?? []) {
      const dir = this.need('hugetlb');
      this.write(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
      // The reservation limit (kernel 5.7+) follows, so reserved-but-unfaulted pages count too.
      if (this.has(dir, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`)) this.write(dir, `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, String(h.limit));
    }
    if (r.network?.classID !== undefined) this.write(this.need('net_cls'), 'net_cls.classid', String(r.network.classID));
    for (const p of r.network?.priorities ?? []) this.write(this.need('net_prio'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    for (const [dev, l] of Object.entries(r.rdma ?? {}))
      this.write(this.need('rdma'), 'rdma.max', `${dev} hca_handle=${l.hcaHandles ?? 'max'} hca_object=${l.hcaObjects ?? 'max'}`);
  }

  private setCpuset(dir: string, r: Resources): void {
    if (r.cpu?.cpus) this.write(dir, this.cpusetFile(dir, 'cpus'), r.cpu.cpus);
    if (r.cpu?.mems) this.write(dir, this.cpusetFile(dir, 'mems'), r.cpu.mems);
  }

  /**
   * Only the rules that change are written: a running container updated to
   * the same rules sees no moment without access to its devices.
   */
  private setDevices(dir: string, rules: DeviceRule[]): void {
    const current = DeviceEmulator.fromList(this.read(dir, 'devices.list'));
    const target = DeviceEmulator.build(rules);
    for (const rule of current.transition(target)) this.write(dir, rule.allow ? 'devices.allow' : 'devices.deny', ruleString(rule));
    // What the kernel made of it must be what was asked (runc's final check).
    const after = DeviceEmulator.fromList(this.read(dir, 'devices.list'));
    if (!target.isBlacklist && !after.equals(target)) throw new CgroupError("resulting devices cgroup doesn't precisely match target");
    if (target.isBlacklist !== after.isBlacklist) throw new CgroupError("resulting devices cgroup doesn't match target mode");
  }

  private setMemory(r: Resources): void {
    const m = r.memory;
    if (!m) return;
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    const set = limit !== 0 || swap !== 0 || m.reservation || m.disableOOMKiller || isSwappiness(m.swappiness);
    if (!set) return;
    const dir = this.need('memory');
    // "Unlimited memory" also means unlimited swap, unless swap is given.
    if (limit === -1 && swap === 0 && this.has(dir, 'memory.memsw.limit_in_bytes')) swap = -1;
    const setLimit = () => {
      if (limit === 0) return;
      try {
        this.write(dir, 'memory.limit_in_bytes', String(limit));
      } catch (e) {
        if ((e as CgroupError).code !== 'EBUSY') throw e;
        // The kernel could not reclaim down to the new limit.
        const usage = this.read(dir, 'memory.usage_in_bytes').trim();
        const peak = this.read(dir, 'memory.max_usage_in_bytes').trim();
        throw new CgroupError(`unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak})`);
      }
    };
    const setSwap = () => {
      if (swap !== 0) this.write(dir, 'memory.memsw.limit_in_bytes', String(swap));
    };
    // memsw must stay >= the memory limit at every step: raising goes swap
    // first, lowering memory first.
    if (limit !== 0 && swap !== 0) {
      const current = u64(this.read(dir, 'memory.limit_in_bytes'));
      if (swap === -1 || current < swap) {
        setSwap();
        setLimit();
      } else {
        setLimit();
        setSwap();
      }
    } else {
      setLimit();
      setSwap();
    }
    if (m.reservation) this.write(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
    if (m.disableOOMKiller) this.write(dir, 'memory.oom_control', '1');
    if (isSwappiness(m.swappiness)) {
      if (m.swappiness! > 100) throw new CgroupError(`invalid value:${m.swappiness}. valid memory swappiness range is 0-100`);
      this.write(dir, 'memory.swappiness', String(m.swappiness));
    }
  }

  /**
   * The kernel checks each write of the RT pair against the other's current
   * value (runtime <= period, and the share within the parent's): a period
   * shorter than the old runtime is refused until the new runtime is in.
   * So a refused period is retried once the runtime is written (as later
   * runc does; 1.1.5 fails there), and is never dropped.
   */
  private setRealtime(dir: string, r: Resources): void {
    const period = r.cpu?.realtimePeriod ? String(r.cpu.realtimePeriod) : '';
    const runtime = r.cpu?.realtimeRuntime ? String(r.cpu.realtimeRuntime) : '';
    let retryPeriod = false;
    if (period) {
      try {
        this.write(dir, 'cpu.rt_period_us', period);
      } catch (e) {
        if ((e as CgroupError).code !== 'EINVAL' || !runtime) throw e;
        retryPeriod = true;
      }
    }
    if (runtime) this.write(dir, 'cpu.rt_runtime_us', runtime);
    if (retryPeriod) this.write(dir, 'cpu.rt_period_us', period);
  }

  private setCpu(r: Resources): void {
    const c = r.cpu;
    if (!c) return;
    const any = c.shares || c.period || c.quota || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined;
    if (!any) return;
    const dir = this.need('cpu');
    if (c.shares) {
      this.write(dir, 'cpu.shares', String(c.shares));
      // The kernel clamps shares to [2, 262144]: tell the user rather than run with another value.
      const got = Number(this.read(dir, 'cpu.shares').trim());
      if (c.shares > got) throw new CgroupError(`the maximum allowed cpu-shares is ${got}`);
      if (c.shares < got) throw new CgroupError(`the minimum allowed cpu-shares is ${got}`);
    }
    let period = '';
    if (c.period) {
      period = String(c.period);
      try {
        this.write(dir, 'cpu.cfs_period_us', period);
        period = '';
      } catch (e) {
        // A shorter period can exceed the parent's quota with the old quota:
        // retry once the new quota is in.
        if ((e as CgroupError).code !== 'EINVAL') throw e;
      }
    }
    let burst = '';
    if (c.burst !== undefined) {
      burst = String(c.burst);
      try {
        this.write(dir, 'cpu.cfs_burst_us', burst);
        burst = '';
      } catch (e) {
        const code = (e as CgroupError).code;
        if (code === 'ENOENT') {
          logDebug('cpu.cfs_burst_us is missing (kernel older than 5.14): burst ignored');
          burst = '';
        } else if (code !== 'EINVAL' || !c.quota) throw e;
      }
    }
    if (c.quota) this.write(dir, 'cpu.cfs_quota_us', String(c.quota));
    // A period or burst refused before the quota was in goes again now; with
    // no new quota to wait for, this write's error is the answer (before,
    // such a value was dropped and update said nothing).
    if (period) this.write(dir, 'cpu.cfs_period_us', period);
    if (burst) this.write(dir, 'cpu.cfs_burst_us', burst);
    this.setRealtime(dir, r);
    if (c.idle !== undefined) this.write(dir, 'cpu.idle', String(c.idle));
  }

  private setBlkio(r: Resources): void {
    const b = r.blockIO;
    if (!b) return;
    const any = b.weight || b.leafWeight || b.weightDevice?.length || b.throttleReadBpsDevice?.length || b.throttleWriteBpsDevice?.length || b.throttleReadIOPSDevice?.length || b.throttleWriteIOPSDevice?.length;
    if (!any) return;
    const dir = this.need('blkio');
    // CFQ's blkio.weight is gone from kernels without CFQ; BFQ has its own file.
    const bfq = !this.has(dir, 'blkio.weight');
    const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
    const weightDeviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
    if (b.weight) this.write(dir, weightFile, String(b.weight));
    if (b.leafWeight) this.write(dir, 'blkio.leaf_weight', String(b.leafWeight));
    for (const wd of b.weightDevice ?? []) {
      if (wd.weight) this.write(dir, weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`);
      if (wd.leafWeight) this.write(dir, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`);
    }
    const throttles = [
      ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
      ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
      ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
      ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
    ] as const;
    for (const [file, list] of throttles) for (const t of list ?? []) this.write(dir, file, `${t.major}:${t.minor} ${t.rate}`);
  }

  freeze(): void {
    freezeCgroup(this.record, this.io);
  }

  thaw(): void {
    thawCgroup(this.record, this.io);
  }

  frozen(): boolean {
    const dir = this.dir('freezer');
    if (!dir || !this.io.exists(dir)) return false;
    return this.read(dir, 'freezer.state').trim() === 'FROZEN' && (!this.has(dir, 'freezer.self_freezing') || this.read(dir, 'freezer.self_freezing').trim() === '1');
  }

  pids(): number[] {
    return recordPids(this.record, this.io);
  }

  exists(): boolean {
    return recordExists(this.record, this.io);
  }

  kill(): void {
    killRecord(this.record, this.io);
  }

  destroy(): void {
    destroyRecord(this.record, this.io);
  }
}
