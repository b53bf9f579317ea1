// tsrunc's entry point. Kept small on purpose: it parses the global flags and
// loads only the module of the verb asked for (the bundle keeps every module
// behind a lazy initializer), so `tsrunc state` never pays for zod.
import { parseArgs } from './args.ts';
import { configureLog, logDebug, logError, type LogFormat } from '../util/log.ts';
import { defaultRoot } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { out } from '../util/output.ts';
import { GLOBAL_FLAGS, type Command, type Globals } from './command.ts';
import { addon, addonLoaded } from '../addon.ts';
import { ENGINE } from '../util/engine.ts';

const COMMANDS: Record<string, () => Promise<{ default: Command }>> = {
  create: () => import('./commands/create.ts'),
  start: () => import('./commands/start.ts'),
  run: () => import('./commands/run.ts'),
  state: () => import('./commands/state.ts'),
  kill: () => import('./commands/kill.ts'),
  delete: () => import('./commands/delete.ts'),
  list: () => import('./commands/list.ts'),
  spec: () => import('./commands/spec.ts'),
  exec: () => import('./commands/exec.ts'),
  ps: () => import('./commands/ps.ts'),
  features: () => import('./commands/features.ts'),
  pause: () => import('./commands/pause.ts'),
  resume: () => import('./commands/resume.ts'),
  update: () => import('./commands/update.ts'),
  events: () => import('./commands/events.ts'),
};

export const VERSION = '0.1.0';

let debug = false;

async function main(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, GLOBAL_FLAGS, 'tsrunc');
  const format = (flags['log-format'] as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw new RuntimeError(`invalid log-format: ${format}`);
  debug = flags.debug === true;
  configureLog({ file: flags.log as string | undefined, format: format as LogFormat, debug });
  if (flags.version) {
    const { SPEC_VERSION } = await import('../config/default.ts');
    out(`tsrunc version ${VERSION}\nspec: ${SPEC_VERSION}\n${ENGINE}\n`);
    return 0;
  }
  let name = rest[0];
  // `tsrunc help VERB` (and `h`) is `tsrunc VERB --help`, as in runc.
  const helpFor = name === 'help' || name === 'h';
  if (helpFor) name = rest[1];
  if (!name || (flags.help && !helpFor)) {
    const [{ usage }, { SPEC_VERSION }] = await Promise.all([import('./usage.ts'), import('../config/default.ts')]);
    out(usage(VERSION, SPEC_VERSION));
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    // urfave/cli's answer to an unknown command, and runc's exit status 3
    // (checkpoint and restore among them: engines read that as unsupported).
    logError(`No help topic for '${name}'`);
    return 3;
  }
  if (helpFor) {
    const [{ verbUsage }, cmd] = await Promise.all([import('./usage.ts'), load()]);
    out(verbUsage(name, cmd.default.flags));
    return 0;
  }
  const globals: Globals = { root: (flags.root as string | undefined) ?? defaultRoot(), debug: flags.debug === true, rootless: flags.rootless as string | undefined, systemdCgroup: flags['systemd-cgroup'] === true };
  const cmd = (await load()).default;
  const parsed = parseArgs(rest.slice(1), cmd.flags, name);
  if (debug) logDebug(`tsrunc ${VERSION} (${ENGINE}): ${name} ${JSON.stringify(rest.slice(1))}, root ${globals.root}`);
  if (parsed.flags.help) {
    const { verbUsage } = await import('./usage.ts');
    out(verbUsage(name, cmd.flags));
    return 0;
  }
  return await cmd.run(globals, parsed);
}

// Exit at once: nothing is left to wait for, and a natural exit would first
// tear down handles (signal watchers) one by one. And after the 'exit'
// listeners (boot.ts's cache writer among them), leave by _exit when the addon
// is loaded anyway: Node's own teardown (joining its threads, freeing the
// heap) costs ~1 ms and there is nothing left to flush, since all output is
// written synchronously. Not under a profiler or coverage, which write their
// files during that teardown.
function exit(code: number): never {
  // (execArgv is empty in the Bun executable: its .some, a JS builtin, would cost ~0.04 ms to set up.)
  const tooling = process.env.NODE_V8_COVERAGE || (process.execArgv.length > 0 && process.execArgv.some((a) => /^--(cpu-prof|heap-prof|prof|inspect)/.test(a)));
  if (!tooling && addonLoaded()) {
    // What process.exit would do that matters here, the 'exit' listeners,
    // then _exit: Bun's process.exit around them cost ~0.1 ms a verb
    // (bench/verbs.mjs --also, three runs: the lifecycle 0.7-1.6 ms less).
    process.exitCode = code;
    process.emit('exit', code);
    addon('exitNow')(code);
  }
  process.exit(code);
}

main(process.argv.slice(2)).then(exit, (e: unknown) => {
  // One line, as runc prints it (engines read its msg); with --debug the
  // stack goes first, on a debug line of its own.
  const err = e as Error;
  if (debug && err?.stack) logDebug(err.stack);
  logError(err?.message ?? String(e));
  exit((e as { exitStatus?: number })?.exitStatus ?? 1);
});
