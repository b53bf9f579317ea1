// create: config -> plan -> cloned init waiting at the exec fifo.
//
// Order matters for invariant 3 (state is never lost): the state directory and
// a "creating" state.json exist before clone, and the pid is recorded before
// the child is released, so a tsrunc killed at any point leaves `delete`
// something to find and clean up.
import { closeSync, ftruncateSync, writeSync } from '../util/fs.ts';
import { resolve } from '../util/path.ts';
import { addon, initPath } from '../addon.ts';
import { cgroupOwner, deviceRules, joinCgroup, planCgroup, rootlessRecord, setupCgroup } from '../cgroups/index.ts';
import { removeCgroup } from '../cgroups/teardown.ts';
import { loadConfig, type RunnableConfig } from '../config/load.ts';
import { checkPidFileDir, ContainerDir, isXdgRoot, OCI_VERSION, writePidFile, type StoredState } from '../state/store.ts';
import { ociState, procStat } from '../state/status.ts';
import { RuntimeError } from '../util/errors.ts';
import { isoTime } from '../util/time.ts';
import { describeFailure } from './failure.ts';
import { runHooks } from './hooks.ts';
import { receiveMaster } from './foreground.ts';
import { planNamespaces } from './namespaces.ts';
import { buildPlan } from './plan.ts';
import { writeSeccompState } from './seccomp.ts';
import { debugEnabled, logDebug } from '../util/log.ts';
import { debugPlan } from './debug.ts';
import { checkRootless, prepareXdgRoot, rootlessCgroups, rootlessSystemd, writeIdMaps } from './rootless.ts';

const EACCES = 13; const EPERM = 1; // errno numbers (Linux, every architecture)

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** false for `run`: the container starts at once, without an exec fifo */
  waitForStart: boolean;
  consoleSocket?: string;
  /** run -t in the foreground: tsrunc receives the pty master */
  foregroundTerminal?: boolean;
  noNewKeyring?: boolean;
  /** the global --rootless flag (true, false, auto: rootless.ts) */
  rootless?: string;
  /** --systemd-cgroup: the cgroup is a transient systemd scope (cgroups/systemd.ts) */
  systemdCgroup?: boolean;
}

export interface Created {
  dir: ContainerDir;
  state: StoredState;
  config: RunnableConfig;
  /** the pty master, for a foreground terminal */
  consoleFd?: number;
  /** init waits for `start` (create, or run with startContainer hooks) */
  waitingAtFifo: boolean;
}

// runc's rules for terminals and the console socket.
export function checkTerminal(terminal: boolean, detached: boolean, consoleSocket: string | undefined): void {
  if (terminal && detached && !consoleSocket)
    throw new RuntimeError('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && consoleSocket)
    throw new RuntimeError('cannot use console socket if runc will not detach or allocate tty');
}

/** The hooks that verbs after create run, kept in the state so that start and delete need not read config.json. */
function laterHooks(config: RunnableConfig): StoredState['hooks'] {
  const { poststart, poststop } = config.hooks ?? {};
  return poststart?.length || poststop?.length ? { poststart, poststop } : undefined;
}

export function createContainer(opts: CreateOptions): Created {
  const bundle = resolve(opts.bundle);
  // Everything that can be refused is refused before anything exists.
  const config = loadConfig(bundle);
  const rootlessCg = rootlessCgroups(opts.rootless);
  checkTerminal(config.process.terminal === true, !opts.foregroundTerminal, opts.consoleSocket);
  // Socket activation (sd_listen_fds): fds 3..3+N-1 were meant for us if
  // LISTEN_PID names this process; they go first, then --preserve-fds ones.
  const listenFds = process.env.LISTEN_PID === String(process.pid) ? Number(process.env.LISTEN_FDS ?? 0) || 0 : 0;
  if (listenFds > 0) config.process.env = [...(config.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  const namespaces = planNamespaces(config.linux?.namespaces ?? []);
  // A non-root caller: runc's rootless checks, and how the id maps get written.
  const idMapMethod = checkRootless(config, namespaces);
  // Where the cgroup goes is known (and refused) now; it is made just before the child is cloned into it.
  // A rootless caller (a non-root euid, or root of a user namespace whose
  // session bus is a user's, as rootless podman runs its runtime; --rootless
  // decides as in runc) gets its scope from its own user manager.
  let cgroup = planCgroup(config, opts.id, undefined, opts.systemdCgroup, opts.systemdCgroup ? rootlessSystemd(opts.rootless) : false);
  // Rootless cgroups: what the caller may not make is done without, if no limit needs it.
  // (A systemd scope is made by the caller's manager: nothing to leave out.)
  if (rootlessCg && !cgroup.systemd) cgroup = rootlessRecord(cgroup, cgroup.resources ?? {}, Boolean(config.linux?.cgroupsPath));
  const devices = deviceRules(config);
  const plan = buildPlan(config, {
    namespaces,
    bundle,
    cgroupPaths: cgroup.paths,
    noPivot: opts.noPivot,
    preserveFds: listenFds + (opts.preserveFds ?? 0),
    consoleSocket: opts.consoleSocket,
    consolePair: opts.foregroundTerminal,
    keyring: opts.noNewKeyring ? undefined : opts.id,
  });

  if (opts.pidFile) checkPidFileDir(resolve(opts.pidFile));
  if (isXdgRoot(opts.root)) prepareXdgRoot(opts.root);
  const dir = ContainerDir.create(opts.root, opts.id);
  const state: StoredState = {
    ociVersion: OCI_VERSION,
    id: opts.id,
    pid: 0,
    initStartTime: 0,
    bundle,
    rootfs: plan.rootfs,
    created: isoTime(),
    owner: '',
    annotations: config.annotations,
    creating: true,
    // In the first state written: a crash after any mkdir leaves delete the paths.
    cleanup: { cgroup },
    hooks: laterHooks(config),
  };
  let consoleFd: number | undefined;
  let stateFd: number | undefined;
  const hooks = config.hooks ?? {};
  // run with startContainer hooks waits at the fifo too: start runs them.
  const waitForStart = opts.waitForStart || Boolean(hooks.startContainer?.length);
  let pid = 0;
  try {
    dir.writeConfig(config);
    dir.write(state);
    if (waitForStart) addon('mkfifo')(dir.fifoPath, 0o622);
    // The limits hold before the child exists; it is cloned into the cgroup.
    const owner = cgroupOwner(cgroup, config, namespaces);
    const cgroupEntry = setupCgroup(cgroup, devices, owner, rootlessCg);
    if (debugEnabled()) debugPlan(`create ${opts.id}`, plan, cgroup.paths, cgroupEntry.cgroupTasks);
    const handle = addon('spawn')({
      ...plan,
      ...cgroupEntry,
      execFifo: waitForStart ? dir.fifoPath : undefined,
      initPath: initPath(),
      hooksCheckpoint: Boolean(hooks.prestart?.length || hooks.createRuntime?.length),
      createContainerHooks: hooks.createContainer,
      startContainerHooks: hooks.startContainer,
    });
    pid = handle.pid;
    if (debugEnabled()) logDebug(`create ${opts.id}: child ${pid} cloned`);
    state.pid = pid;
    state.initStartTime = procStat(pid)?.startTime ?? 0;
    dir.write(state);
    // systemd driver: the scope, started with the waiting child's pid (cgroupfs: nothing, it was born in its cgroup).
    joinCgroup(cgroup, pid, devices, owner);
    // Written by the parent while the child waits (rootless.ts: how, for a non-root caller).
    if (plan.idMaps) writeIdMaps(pid, plan.idMaps.uid, plan.idMaps.gid, idMapMethod);
    if (plan.oomScoreAdj !== undefined) writeOomScoreAdj(pid, plan.oomScoreAdj);
    consoleFd = handle.consoleFd;
    stateFd = handle.stateFd;
    if (stateFd !== undefined) writeSync(stateFd, JSON.stringify(ociState(state, 'creating')));
    writeSeccompState(handle.seccompStateFd, plan.seccomp, pid, ociState(state, 'creating'));
    let released = addon('release')(handle.syncFd, handle.errorFd, pid);
    while (released.checkpoint) {
      runHooks('prestart', hooks.prestart, ociState(state, 'creating'));
      runHooks('createRuntime', hooks.createRuntime, ociState(state, 'creating'));
      released = addon('release')(handle.syncFd, handle.errorFd, pid);
    }
    if (released.failure) throw new RuntimeError(describeFailure(released.failure, { ...plan, ...cgroupEntry }, hooks.createContainer));
    consoleFd = receiveMaster(consoleFd);
    if (released.pid !== pid) {
      // It joined a pid namespace: the container's init is the grandchild.
      pid = released.pid;
      state.pid = pid;
      state.initStartTime = procStat(pid)?.startTime ?? 0;
    }
    delete state.creating;
    dir.write(state);
    if (stateFd !== undefined) {
      // What the startContainer hooks will read, at `start`.
      ftruncateSync(stateFd);
      writeSync(stateFd, JSON.stringify(ociState(state, 'created')), 0);
      closeSync(stateFd);
    }
    if (opts.pidFile) writePidFile(resolve(opts.pidFile), pid);
  } catch (e) {
    if (consoleFd !== undefined) closeSync(consoleFd);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      // Bounded: in a frozen cgroup (a cgroupsPath someone paused) the kill
      // lands only at the thaw; an unreaped child goes to init when we exit.
      if (addon('pidfdWait')(pid, 1000)) addon('reap')(pid);
    }
    try {
      removeCgroup(state);
    } catch {}
    dir.remove();
    throw e;
  }
  return { dir, state, config, consoleFd, waitingAtFifo: waitForStart };
}

/**
 * process.oomScoreAdj: lowering it below the caller's own needs
 * CAP_SYS_RESOURCE, which a rootless caller lacks: said so, with the file.
 */
export function writeOomScoreAdj(pid: number, value: number): void {
  try {
    addon('procWrite')(pid, 'oom_score_adj', String(value));
  } catch (e) {
    const err = e as Error & { errno?: number };
    const why = err.errno === EACCES || err.errno === EPERM ? 'permission denied (lowering it below the caller\'s needs CAP_SYS_RESOURCE)' : err.message;
    throw new RuntimeError(`process.oomScoreAdj: write /proc/${pid}/oom_score_adj (${value}): ${why}`);
  }
}
