// create: config -> plan -> cloned init waiting at the exec fifo.
//
// Order matters for invariant 3 (state is never lost): the state directory and
// a "creating" state.json exist before clone, and the pid is recorded before
// the child is released, so a tsrunc killed at any point leaves `delete`
// something to find and clean up.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { addon, initPath, type ChildFailure } from '../addon.ts';
import { loadConfig, type RunnableConfig } from '../config/load.ts';
import { ContainerDir, OCI_VERSION, writeFileAtomic, type StoredState } from '../state/store.ts';
import { procStat } from '../state/status.ts';
import { errnoName, RuntimeError } from '../util/errors.ts';
import { buildPlan, type Plan } from './plan.ts';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** false for `run`: the container starts at once, without an exec fifo */
  waitForStart: boolean;
}

export interface Created {
  dir: ContainerDir;
  state: StoredState;
  config: RunnableConfig;
}

function describe(f: ChildFailure, plan: Plan): string {
  const steps = addon().steps;
  const err = f.errno ? errnoName(f.errno) : 'killed';
  if (f.step < 0) return 'container init died during setup';
  const step = steps[f.step] ?? `step ${f.step}`;
  switch (step) {
    case 'mount':
    case 'create mount target':
    case 'remount':
    case 'set propagation': {
      const m = plan.mounts[f.index];
      const what = m?.bind ? m.source : (m?.type ?? m?.source ?? '?');
      return `${step} "${what}" on ${m?.target}: ${err}`;
    }
    case 'create device':
      return `create device ${plan.devices[f.index]?.path}: ${err}`;
    case 'create symlink':
      return `create symlink ${plan.symlinks[f.index]?.path}: ${err}`;
    case 'mask path':
      return `mask path ${plan.maskedPaths[f.index]}: ${err}`;
    case 'make path read-only':
      return `make path read-only ${plan.readonlyPaths[f.index]}: ${err}`;
    case 'write sysctl':
      return `write sysctl ${plan.sysctls[f.index]?.path}: ${err}`;
    case 'setrlimit':
      return `setrlimit ${plan.rlimits[f.index]?.resource}: ${err}`;
    case 'join namespace':
      return `join namespace ${plan.joinNamespaces[f.index]?.path ?? '(cgroup)'}: ${err}`;
    case 'chdir to cwd':
      return `chdir to cwd ${JSON.stringify(plan.cwd)}: ${err}`;
    case 'cwd outside container':
      return `cwd ${JSON.stringify(plan.cwd)} is outside the container's root`;
    case 'executable lookup':
      if (f.errno === 2 && !plan.args[0].includes('/'))
        return `exec: ${JSON.stringify(plan.args[0])}: executable file not found in $PATH`;
      return `exec: ${JSON.stringify(plan.args[0])}: ${err}`;
    default:
      return `${step}: ${err}`;
  }
}

export function createContainer(opts: CreateOptions): Created {
  const bundle = resolve(opts.bundle);
  // Everything that can be refused is refused before anything exists.
  const config = loadConfig(bundle);
  const plan = buildPlan(config, { bundle, noPivot: opts.noPivot, preserveFds: opts.preserveFds });

  const dir = ContainerDir.create(opts.root, opts.id);
  const state: StoredState = {
    ociVersion: OCI_VERSION,
    id: opts.id,
    pid: 0,
    initStartTime: 0,
    bundle,
    rootfs: plan.rootfs,
    created: new Date().toISOString(),
    owner: '',
    annotations: config.annotations,
    creating: true,
  };
  let pid = 0;
  try {
    dir.write(state);
    if (opts.waitForStart) addon().mkfifo(dir.fifoPath, 0o622);
    const handle = addon().spawn({ ...plan, execFifo: opts.waitForStart ? dir.fifoPath : undefined, initPath });
    pid = handle.pid;
    state.pid = pid;
    state.initStartTime = procStat(pid)?.startTime ?? 0;
    dir.write(state);
    if (plan.oomScoreAdj !== undefined) writeFileSync(`/proc/${pid}/oom_score_adj`, String(plan.oomScoreAdj));
    const failure = addon().release(handle.syncFd, handle.errorFd);
    if (failure) throw new RuntimeError(describe(failure, plan));
    delete state.creating;
    dir.write(state);
    if (opts.pidFile) writeFileAtomic(resolve(opts.pidFile), String(pid), 0o644);
  } catch (e) {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      addon().reap(pid);
    }
    dir.remove();
    throw e;
  }
  return { dir, state, config };
}
