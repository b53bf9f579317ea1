// A bad config.json is refused before anything is created: the JSON path and
// the reason on stderr, exit 1, nothing under --root, no process left.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { badConfigs } from './config/bad-configs.ts';
import { cleanup, isRoot, makeBundle, rt, stateRoot, uid, writeRawConfig } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

describe.skipIf(!isRoot)('create refuses a bad config.json', () => {
  it.each(badConfigs.map((b) => [b.name, b] as const))('%s', (_name, bad) => {
    const id = uid();
    const r = rt(root, ['create', '-b', makeBundle(undefined, bad.mutate), id]);
    expect(r.code).toBe(1);
    if (typeof bad.message === 'string') expect(r.stderr).toContain(JSON.stringify(bad.message).slice(1, -1));
    else expect(JSON.parse(`"${/msg="(.*)"\n$/.exec(r.stderr)![1]}"`)).toMatch(bad.message);
    expect(existsSync(`${root}/${id}`)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('invalid JSON', () => {
    const r = rt(root, ['create', '-b', writeRawConfig('{"ociVersion": "1.2.0",'), uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config.json: invalid JSON');
    expect(readdirSync(root)).toEqual([]);
  });

  it('a missing config.json', () => {
    const r = rt(root, ['create', '-b', '/nonexistent-bundle', uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config.json: no such file in bundle /nonexistent-bundle');
  });

  it('a missing rootfs', () => {
    const r = rt(root, ['create', '-b', makeBundle(['true'], (c) => (c.root.path = '/nonexistent-rootfs')), uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('invalid rootfs');
    expect(readdirSync(root)).toEqual([]);
  });

  it('errors go to --log as JSON lines with --log-format json, the bare message to stderr', () => {
    const log = `${makeBundle(['true'])}/log.json`;
    const r = rt(root, ['--log', log, '--log-format', 'json', 'create', '-b', makeBundle(undefined, (c) => (c.process.args = [])), uid()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('process.args: must be a non-empty array of strings\n');
    const line = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    expect(line).toMatchObject({ level: 'error', msg: 'process.args: must be a non-empty array of strings' });
    expect(typeof line.time).toBe('string');
  });
});
