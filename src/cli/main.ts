// tsrunc's entry point. Kept small on purpose: it parses the global flags and
// runs the verb asked for, loading a large verb's modules only when it is the
// one (the bundle keeps every module behind a lazy initializer), so `tsrunc
// state` never pays for zod or the cgroup managers.
import { parseArgs, type Parsed } from './args.ts';
import { configureLog, logDebug, logError, type LogFormat } from '../util/log.ts';
import { defaultRoot } from '../state/store.ts';
import { RuntimeError } from '../util/errors.ts';
import { out } from '../util/output.ts';
import { checkArgCount, GLOBAL_FLAGS, type Command, type Globals } from './command.ts';
import { addon, addonLoaded } from '../addon.ts';
import { ENGINE } from '../util/engine.ts';
import state from './commands/state.ts';
import start from './commands/start.ts';
import kill from './commands/kill.ts';
import del from './commands/delete.ts';
import list from './commands/list.ts';
import pause from './commands/pause.ts';
import resume from './commands/resume.ts';
import ps from './commands/ps.ts';
import events from './commands/events.ts';

declare const Bun: unknown;

// The verbs whose own modules are small, loaded with this module: the ones
// an engine calls for every container, and ps and events (~55 kB of code in
// all). Under Bun a dynamic import costs ~0.15 ms (the module loader's
// promise chain), more than the static graph pays to instantiate these
// (interleaved with runc, 200 rounds: `state` 5.33 -> 5.16 ms with the
// first seven static, against runc's 5.12; `events --stats` 7.34 -> 7.06,
// runc 6.74, with `state` unchanged). The rest load when asked for: create,
// run and exec bring the config schema and its checks, update the cgroup
// managers (with update static too, `state` took 0.6 ms longer).
const COMMANDS: Record<string, Command> = { state, start, kill, delete: del, list, pause, resume, ps, events };

const LAZY: Record<string, () => Promise<{ default: Command }>> = {
  create: () => import('./commands/create.ts'),
  run: () => import('./commands/run.ts'),
  spec: () => import('./commands/spec.ts'),
  exec: () => import('./commands/exec.ts'),
  features: () => import('./commands/features.ts'),
  update: () => import('./commands/update.ts'),
};

export const VERSION = '0.1.0';

let debug = false;

/**
 * The exit status; a promise of it only where the verb, its module or the
 * help text must be awaited. The verbs above run without an await, so that
 * JavaScriptCore never sets up its async machinery for them (~0.05 ms under
 * Bun at its first use).
 */
function main(argv: string[]): number | Promise<number> {
  const { flags, rest } = parseArgs(argv, GLOBAL_FLAGS, 'tsrunc');
  const format = (flags['log-format'] as string | undefined) ?? 'text';
  if (format !== 'text' && format !== 'json') throw new RuntimeError(`invalid log-format: ${format}`);
  debug = flags.debug === true;
  configureLog({ file: flags.log as string | undefined, format: format as LogFormat, debug });
  if (flags.version) return version();
  let name = rest[0];
  // `tsrunc help VERB` (and `h`) is `tsrunc VERB --help`, as in runc.
  const helpFor = name === 'help' || name === 'h';
  if (helpFor) name = rest[1];
  if (!name || (flags.help && !helpFor)) return usageText();
  const verb = (cmd: Command) => (helpFor ? verbHelp(name, cmd) : runVerb(name, cmd, flags, rest.slice(1)));
  // (Own properties only: `constructor` is no verb.)
  if (Object.hasOwn(COMMANDS, name)) return verb(COMMANDS[name]);
  if (Object.hasOwn(LAZY, name)) return LAZY[name]().then((m) => verb(m.default));
  // urfave/cli's answer to an unknown command, and runc's exit status 3
  // (checkpoint and restore among them: engines read that as unsupported).
  logError(`No help topic for '${name}'`);
  return 3;
}

function runVerb(name: string, cmd: Command, flags: Parsed['flags'], args: string[]): number | Promise<number> {
  const globals: Globals = { root: (flags.root as string | undefined) ?? defaultRoot(), debug: flags.debug === true, rootless: flags.rootless as string | undefined, systemdCgroup: flags['systemd-cgroup'] === true };
  const parsed = parseArgs(args, cmd.flags, name, cmd.args !== 'id+command');
  if (debug) logDebug(`tsrunc ${VERSION} (${ENGINE}): ${name} ${JSON.stringify(args)}, root ${globals.root}`);
  if (parsed.flags.help) return verbHelp(name, cmd);
  checkArgCount(name, cmd, parsed.rest);
  return cmd.run(globals, parsed);
}

async function version(): Promise<number> {
  const { SPEC_VERSION } = await import('../config/default.ts');
  out(`tsrunc version ${VERSION}\nspec: ${SPEC_VERSION}\n${ENGINE}\n`);
  return 0;
}

async function usageText(): Promise<number> {
  const [{ usage }, { SPEC_VERSION }] = await Promise.all([import('./usage.ts'), import('../config/default.ts')]);
  out(usage(VERSION, SPEC_VERSION));
  return 0;
}

async function verbHelp(name: string, cmd: Command): Promise<number> {
  const { verbUsage } = await import('./usage.ts');
  out(verbUsage(name, cmd.flags));
  return 0;
}

// Exit at once: nothing is left to wait for, and a natural exit would first
// tear down handles (signal watchers) one by one. And after the 'exit'
// listeners (boot.ts's cache writer among them), leave by _exit when the addon
// is loaded anyway: Node's own teardown (joining its threads, freeing the
// heap) costs ~1 ms and there is nothing left to flush, since all output is
// written synchronously. Not under a profiler or coverage, which write their
// files during that teardown.
function exit(code: number): never {
  // Those are Node's (V8's): under Bun there are none to ask about, and the
  // first read of process.env alone is ~0.04 ms there. (execArgv is empty in
  // the Bun executable too: its .some, a JS builtin, would cost ~0.04 ms to set up.)
  const tooling = typeof Bun === 'undefined' && (process.env.NODE_V8_COVERAGE || (process.execArgv.length > 0 && process.execArgv.some((a) => /^--(cpu-prof|heap-prof|prof|inspect)/.test(a))));
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

/** An error's one line, as runc prints it (engines read its msg); with --debug the stack goes first, on a debug line of its own. */
function fail(e: unknown): never {
  const err = e as Error;
  if (debug && err?.stack) logDebug(err.stack);
  logError(err?.message ?? String(e));
  exit((e as { exitStatus?: number })?.exitStatus ?? 1);
}

let status: number | Promise<number>;
try {
  status = main(process.argv.slice(2));
} catch (e) {
  fail(e);
}
if (typeof status === 'number') exit(status);
else status.then(exit, fail);
