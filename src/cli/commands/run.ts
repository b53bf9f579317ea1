// run = create + start + wait. The container's init is our child; we forward
// the signals we get to it and exit with its status (128+signal if killed).
import { addon, type ExitStatus } from '../../addon.ts';
import { createContainer } from '../../container/create.ts';
import { destroy } from '../../container/lifecycle.ts';
import { HELP, requireArgs, type Command } from '../command.ts';
import { CREATE_FLAGS } from './create.ts';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

// Waits on SIGCHLD rather than in a thread: the event loop stays free to
// forward signals, and no thread pool is started (or joined at exit).
function exited(pid: number): Promise<ExitStatus> {
  return new Promise((resolve) => {
    // Signal watchers do not keep Node's event loop alive; this timer does.
    const alive = setInterval(() => {}, 1 << 30);
    const check = () => {
      const st = addon().tryWait(pid);
      if (!st) return;
      process.off('SIGCHLD', check);
      clearInterval(alive);
      resolve(st);
    };
    process.on('SIGCHLD', check);
    check(); // it may have exited before the handler was in place
  });
}

const command: Command = {
  flags: [...CREATE_FLAGS, HELP, { names: ['detach', 'd'], type: 'bool' }, { names: ['keep'], type: 'bool' }],
  async run(g, args) {
    const id = requireArgs(args, 'run');
    const f = args.flags;
    const { dir, state } = createContainer({
      root: g.root,
      id,
      bundle: (f.bundle as string | undefined) ?? process.cwd(),
      pidFile: f['pid-file'] as string | undefined,
      noPivot: f['no-pivot'] === true,
      preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
      waitForStart: false,
    });
    if (f.detach) return 0;
    dir.unlock();
    const forward = (sig: NodeJS.Signals) => {
      try {
        process.kill(state.pid, sig);
      } catch {}
    };
    for (const s of FORWARDED) process.on(s, forward);
    const { code, signal } = await exited(state.pid);
    for (const s of FORWARDED) process.off(s, forward);
    if (!f.keep) {
      const { ContainerDir } = await import('../../state/store.ts');
      destroy(ContainerDir.open(g.root, id), state);
    }
    return code ?? 128 + (signal ?? 0);
  },
};
export default command;
