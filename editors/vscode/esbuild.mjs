// Bundles the extension (src/extension.ts → dist/extension.js, with vscode-languageclient inside
// it, so that the .vsix needs no node_modules) and, with --tests, the unit tests
// (test/*.test.ts → out/test/*.test.js, with `vscode` and `vscode-languageclient/node` replaced
// by the small fakes in test/stubs/).
import * as esbuild from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const watch = args.has('--watch');
const tests = args.has('--tests');

// VS Code 1.82 runs extensions on Node 18.
const common = {
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    logLevel: 'warning',
    absWorkingDir: here,
};

const extension = {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
};

const testFiles = () =>
    readdirSync(path.join(here, 'test'))
        .filter((name) => name.endsWith('.test.ts'))
        .map((name) => `test/${name}`);

const unitTests = () => ({
    ...common,
    entryPoints: testFiles(),
    outdir: 'out/test',
    sourcemap: 'inline',
    alias: {
        vscode: './test/stubs/vscode.ts',
        'vscode-languageclient/node': './test/stubs/languageclient.ts',
    },
});

if (tests) {
    await esbuild.build(unitTests());
} else if (watch) {
    const context = await esbuild.context(extension);
    await context.watch();
    console.log('esbuild: watching src/ for changes');
} else {
    await esbuild.build(extension);
    // vscode-languageclient kills a server that outlives `exit` with this script, which it looks
    // for beside its own code: in the bundle, that is dist/.
    mkdirSync(path.join(here, 'dist'), { recursive: true });
    const script = path.join(here, 'dist', 'terminateProcess.sh');
    copyFileSync(path.join(here, 'node_modules', 'vscode-languageclient', 'lib', 'node', 'terminateProcess.sh'), script);
    chmodSync(script, 0o755);
}
