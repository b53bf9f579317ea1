// exec: a new process in a running container. A fresh child of tsrunc joins
// every namespace of the container's init (mount and user included: it is
// single-threaded, unlike Node), forks once more to be inside the pid
// namespace, and becomes the process (DEVELOPERS.md, invariant 1).
import { readlinkSync } from '../util/fs.ts';
import { resolve } from '../util/path.ts';
import { addon, initPath } from '../addon.ts';
import { execCgroupEntry, type SubCgroups } from '../cgroups/index.ts';
import type { Process } from '../config/schema.ts';
import { initAlive, ociState } from '../state/status.ts';
import { checkPidFileDir, writePidFile } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { checkMappedUser } from './rootless.ts';
import { checkTerminal } from './create.ts';
import { describeFailure } from './failure.ts';
import { debugEnabled } from '../util/log.ts';
import { debugPlan } from './debug.ts';
import { receiveMaster } from './foreground.ts';
import { peek } from './load.ts';
import { CLONE_FLAGS } from './namespaces.ts';
import { planProcess, refuseLabels } from './plan.ts';
import { planExecCpuAffinity } from './affinity.ts';
import { writeSeccompState } from './seccomp.ts';

// /proc/<pid>/ns names, user first: its privileges are needed for the others.
const NS_FILES: Array<[string, number]> = [
  ['user', CLONE_FLAGS.user],
  ['mnt', CLONE_FLAGS.mount],
  ['pid', CLONE_FLAGS.pid],
  ['ipc', CLONE_FLAGS.ipc],
  ['uts', CLONE_FLAGS.uts],
  ['net', CLONE_FLAGS.network],
  ['cgroup', CLONE_FLAGS.cgroup],
  ['time', CLONE_FLAGS.time],
];

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** --cgroup: a sub-cgroup of the container's to start in (see cgroups/path.ts) */
  subCgroups?: SubCgroups;
}

export interface Execed {
  pid: number;
  consoleFd?: number;
}

/** The container's namespaces that tsrunc is not already in. */
function namespacesOf(pid: number): Array<{ path: string; nstype: number }> {
  const joins = [];
  for (const [name, nstype] of NS_FILES) {
    const path = `/proc/${pid}/ns/${name}`;
    let theirs: string;
    try {
      theirs = readlinkSync(path);
    } catch {
      continue; // a namespace type this kernel lacks
    }
    // Joining one's own user namespace is an error (EINVAL); the rest is moot.
    if (theirs !== readlinkSync(`/proc/self/ns/${name}`)) joins.push({ path, nstype });
  }
  return joins;
}

/**
 * exec takes no lock (it changes no state): its child holds a copy of every
 * fd tsrunc has until it execs, and may wait in the container's frozen
 * cgroup (--ignore-paused) for as long as the container stays paused; a lock
 * it held would stop `resume` itself. What the lock would give, that init is
 * the container's and alive, is checked again after the namespace files are
 * open (spawn opens them): a pid cannot be reused while its process lives.
 */
export function execProcess(opts: ExecOptions): Execed {
  const { dir, state, status } = peek(opts.root, opts.id);
  if (status === 'stopped') throw new RuntimeError('cannot exec in a stopped container');
  if (status === 'paused' && !opts.ignorePaused) throw new RuntimeError('cannot exec in a paused container');
  if (status === 'creating') throw new RuntimeError('cannot exec in a container that is being created');
  const proc = opts.process;
  checkTerminal(proc.terminal === true, opts.detach, opts.consoleSocket);
  refuseLabels(proc);
  // Checked before anything runs: a pid file that cannot be written fails the exec, not the process.
  const pidFile = opts.pidFile === undefined ? undefined : resolve(opts.pidFile);
  if (pidFile !== undefined) checkPidFileDir(pidFile);
  const config = dir.readConfig(state);
  if (config) checkMappedUser(config, proc.user ?? { uid: 0, gid: 0 });
  const joinNamespaces = namespacesOf(state.pid);
  const plan = {
    cloneFlags: 0,
    joinNamespaces,
    forkAfterSetns: joinNamespaces.some((n) => n.nstype === CLONE_FLAGS.pid),
    ...planProcess(proc, {
      preserveFds: opts.preserveFds,
      consoleSocket: opts.consoleSocket,
      consolePair: !opts.detach,
      seccomp: config?.linux?.seccomp,
    }),
    ...planExecCpuAffinity(proc.execCPUAffinity),
    initPath: initPath(),
  };
  // Into the container's cgroup as it is born (its limits, kill --all).
  let cgroupEntry = execCgroupEntry(state, false, opts.subCgroups);
  if (debugEnabled()) debugPlan(`exec ${opts.id}`, plan, undefined, cgroupEntry.cgroupTasks);
  let handle;
  try {
    handle = addon('spawn')({ ...plan, ...cgroupEntry });
  } catch (e) {
    // A cgroup named by --cgroup is taken as it is (runc: `--cgroup /` turns the fallback off).
    if (opts.subCgroups || (e as { errno?: number }).errno !== process.getBuiltinModule('node:os').constants.errno.EBUSY) throw e;
    cgroupEntry = execCgroupEntry(state, true);
    handle = addon('spawn')({ ...plan, ...cgroupEntry });
  }
  let pid = handle.pid;
  let consoleFd: number | undefined;
  try {
    // The namespaces opened were init's if init still lives (see above).
    if (!initAlive(state)) throw new RuntimeError('cannot exec in a stopped container');
    writeSeccompState(handle.seccompStateFd, plan.seccomp, pid, ociState(state, 'running'));
    if (plan.oomScoreAdj !== undefined) addon('procWrite')(pid, 'oom_score_adj', String(plan.oomScoreAdj));
    // Waits until the process execs or fails: in a paused container (--ignore-paused)
    // that is once it is resumed, as with runc; no lock is held meanwhile.
    const released = addon('release')(handle.syncFd, handle.errorFd, pid);
    if (released.failure) {
      pid = released.pid;
      throw new RuntimeError(describeFailure(released.failure, { ...plan, ...cgroupEntry }));
    }
    pid = released.pid;
    consoleFd = receiveMaster(handle.consoleFd);
    if (pidFile !== undefined) writePidFile(pidFile, pid);
  } catch (e) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    // Reaped only once it is gone: a process killed in a frozen cgroup dies
    // when the cgroup is thawed, and tsrunc must not wait for that; an
    // unreaped child is reaped by init once tsrunc exits.
    if (addon('pidfdWait')(pid, 1000)) addon('reap')(pid);
    throw e;
  }
  return { pid, consoleFd };
}

/**
 * exec's process without --process: the container's own process settings,
 * with the command line's arguments and flags over them (as runc does).
 */
export function execProcessSpec(
  base: Process | undefined,
  f: {
    args: string[];
    env: string[];
    cwd?: string;
    user?: string;
    additionalGids: number[];
    caps: string[];
    noNewPrivs: boolean;
    tty: boolean;
    apparmor?: string;
    processLabel?: string;
  },
): Process {
  if (f.args.length === 0) throw new RuntimeError('exec: no command given');
  const p: Process = structuredClone(base ?? { cwd: '/', args: [] });
  p.args = f.args;
  p.terminal = f.tty;
  const env = new Map((p.env ?? []).map((e) => [e.split('=')[0], e] as const));
  // What config.json's schema refuses, the flags may not give either (runc refuses both too).
  for (const e of f.env) {
    if (!e.includes('=')) throw new RuntimeError(`invalid --env ${JSON.stringify(e)}: must be in the form KEY=value`);
    env.set(e.split('=')[0], e);
  }
  p.env = [...env.values()];
  if (f.cwd) {
    if (!f.cwd.startsWith('/')) throw new RuntimeError(`invalid --cwd ${JSON.stringify(f.cwd)}: must be an absolute path`);
    p.cwd = f.cwd;
  }
  if (f.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw new RuntimeError(`invalid --user ${JSON.stringify(f.user)}: want uid[:gid]`);
    p.user = { ...(p.user ?? {}), uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : (p.user?.gid ?? 0) };
  }
  if (f.additionalGids.length) p.user = { ...(p.user ?? { uid: 0, gid: 0 }), additionalGids: f.additionalGids };
  if (f.caps.length) {
    const caps = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...f.caps])];
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  return p;
}
