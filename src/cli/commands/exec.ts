// exec [flags] ID COMMAND [ARGS...] | exec --process FILE ID
import { readFileSync } from '../../util/fs.ts';
import { parseSubCgroups } from '../../cgroups/index.ts';
import { execProcess, execProcessSpec, type Execed } from '../../container/exec.ts';
import { foreground } from '../../container/foreground.ts';
import { peek } from '../../container/load.ts';
import { ExitError } from '../../util/errors.ts';
import type { Parsed } from '../args.ts';
import { HELP, idArg, type Command, type Globals } from '../command.ts';

/** Everything up to the process's start (its exec). */
async function start(g: Globals, args: Parsed, id: string): Promise<Execed> {
  const f = args.flags;
  let proc;
  if (f.process) {
    const text = readFileSync(f.process === '-' ? 0 : (f.process as string), 'utf8');
    // zod's schemas only for a process document (what containerd's shim
    // sends): an exec of arguments does not build them (~5 ms under Bun).
    const { parseProcess } = await import('../../config/load.ts');
    proc = parseProcess(JSON.parse(text));
  } else {
    const { dir, state } = peek(g.root, id);
    proc = execProcessSpec(dir.readConfig(state)?.process, {
      args: args.rest.slice(1),
      env: (f.env as string[] | undefined) ?? [],
      cwd: f.cwd as string | undefined,
      user: f.user as string | undefined,
      additionalGids: ((f['additional-gids'] as string[] | undefined) ?? []).flatMap((s) => s.split(',')).map(Number),
      caps: (f.cap as string[] | undefined) ?? [],
      noNewPrivs: f['no-new-privs'] === true,
      tty: f.tty === true,
      apparmor: f.apparmor as string | undefined,
      processLabel: f['process-label'] as string | undefined,
    });
  }
  return execProcess({
    root: g.root,
    id,
    process: proc,
    detach: f.detach === true,
    pidFile: f['pid-file'] as string | undefined,
    consoleSocket: f['console-socket'] as string | undefined,
    preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
    ignorePaused: f['ignore-paused'] === true,
    subCgroups: parseSubCgroups((f.cgroup as string[] | undefined) ?? []),
  });
}

const command: Command = {
  args: 'id+command',
  flags: [
    HELP,
    { names: ['console-socket'], type: 'string' },
    { names: ['cwd'], type: 'string' },
    { names: ['env', 'e'], type: 'strings' },
    { names: ['tty', 't'], type: 'bool' },
    { names: ['user', 'u'], type: 'string' },
    { names: ['additional-gids', 'g'], type: 'strings' },
    { names: ['process', 'p'], type: 'string' },
    { names: ['detach', 'd'], type: 'bool' },
    { names: ['pid-file'], type: 'string' },
    { names: ['process-label'], type: 'string' },
    { names: ['apparmor'], type: 'string' },
    { names: ['no-new-privs'], type: 'bool' },
    { names: ['cap', 'c'], type: 'strings' },
    { names: ['preserve-fds'], type: 'int' },
    { names: ['ignore-paused'], type: 'bool' },
    { names: ['cgroup'], type: 'strings' },
  ],
  async run(g, args) {
    const id = idArg(args);
    let started: Execed;
    try {
      started = await start(g, args, id);
    } catch (e) {
      // runc: whatever keeps the process from starting exits 255 (its own status is the process's).
      throw new ExitError(`exec failed: ${(e as Error).message}`, 255);
    }
    if (args.flags.detach === true) return 0;
    return await foreground(started.pid, started.consoleFd);
  },
};
export default command;
