// Which JavaScript engine runs this process, as `--version` and the usage
// text name it (runc names its Go there): "bun: 1.4.5" for dist/tsrunc as
// built (a Bun executable, scripts/bun-compile.mjs), "node: v24.21.0" for the
// Node build (dist/tsrunc-node, or dist/tsrunc built with TSRUNC_ENGINE=node).
declare const Bun: { version: string } | undefined;

export const ENGINE = typeof Bun !== 'undefined' ? `bun: ${Bun.version}` : `node: ${process.version}`;
