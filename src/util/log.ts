// runc's logging contract. Without --log, errors go to stderr as logrus text
// lines; with --log they go to the file (text or JSON lines: level, msg, time)
// and the bare message to stderr. Engines read the last `error` line.
import { appendFileSync, writeSync } from './fs.ts';
import { isoTime } from './time.ts';

export type LogFormat = 'text' | 'json';

interface LogOptions {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

const options: LogOptions = { format: 'text', debug: false };

export function configureLog(o: Partial<LogOptions>): void {
  if (o.file !== undefined) options.file = o.file;
  if (o.format !== undefined) options.format = o.format;
  if (o.debug !== undefined) options.debug = o.debug;
}

function now(): string {
  return isoTime().replace(/\.\d+Z$/, 'Z');
}

function line(level: string, msg: string): string {
  if (options.format === 'json') return JSON.stringify({ level, msg, time: now() }) + '\n';
  return `time="${now()}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function emit(level: string, msg: string): void {
  if (options.file) {
    try {
      appendFileSync(options.file, line(level, msg));
    } catch {
      // A log we cannot write must not hide the error itself.
    }
  } else {
    writeSync(2, line(level, msg));
  }
}

export function logError(msg: string): void {
  emit('error', msg);
  if (options.file) writeSync(2, msg + '\n');
}

export function logWarn(msg: string): void {
  emit('warning', msg);
}

/**
 * --debug's lines: what is being done (the verb, cgroup paths and the values
 * written, mounts, hooks, the process exec'd), as runc's `level=debug` lines,
 * to stderr or to --log. Callers on a hot path test debugEnabled() first, so
 * that with --debug off no message string is even built.
 */
export function logDebug(msg: string): void {
  if (options.debug) emit('debug', msg);
}

export function debugEnabled(): boolean {
  return options.debug;
}
