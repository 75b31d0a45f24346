// The built bundle, dist/extension.js, as VS Code loads it: `require('vscode')` is intercepted
// and answered with the fake, and the real vscode-languageclient inside the bundle starts a fake
// interpreter whose `-m dbheal_lsp` is a tiny language server that records what it receives.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fakePython, readLog, settle, tempDir, waitFor } from './helpers';
import { extensionContext, fake, resetFake, Uri, vscodeModule } from './stubs/vscode';

const BUNDLE = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');

interface Extension {
    activate(context: unknown): Promise<void>;
    deactivate(): Promise<void>;
}

function loadBundle(): Extension {
    const vscode = vscodeModule();
    const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
    const original = loader._load;
    loader._load = function (request: string, ...rest: unknown[]) {
        return request === 'vscode' ? vscode : original.call(this, request, ...rest);
    };
    try {
        // A fresh copy each time: the bundle keeps its state in module variables.
        const load = Module.createRequire(__filename);
        const resolved = load.resolve(BUNDLE);
        delete load.cache[resolved];
        return load(resolved) as Extension;
    } finally {
        loader._load = original;
    }
}

let dir: string;
let logFile: string;
let context: ReturnType<typeof extensionContext>;
let extension: Extension;

beforeEach(() => {
    resetFake();
    dir = tempDir();
    logFile = path.join(dir, 'python.log');
    process.env.FAKE_PYTHON_LOG = logFile;
    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fake.folders = [{ uri: Uri.file(project), name: 'project', index: 0 }];
    context = extensionContext();
    extension = loadBundle();
});

afterEach(async () => {
    await extension.deactivate();
    for (const disposable of context.subscriptions) {
        disposable.dispose();
    }
    delete process.env.FAKE_PYTHON_LOG;
    fs.rmSync(dir, { recursive: true, force: true });
});

describe('dist/extension.js', () => {
    it('needs nothing but vscode and Node: vscode-languageclient is bundled', () => {
        const source = fs.readFileSync(BUNDLE, 'utf8');
        const required = new Set([...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
        for (const name of required) {
            assert.ok(name === 'vscode' || Module.builtinModules.includes(name.replace(/^node:/, '')), `requires ${name}`);
        }
    });

    it('starts `<python> -m dbheal_lsp` and sends the dbheal settings, through the real client', async () => {
        const python = fakePython(dir, 'python', 'ok');
        Object.assign(fake.settings, {
            'dbheal.interpreter': python,
            'dbheal.database': 'app.db',
            'dbheal.severity': { MISSING_INDEX: 'critical' },
        });
        await extension.activate(context);
        await waitFor(() => readLog(logFile).some((e) => e.event === 'configuration'), 'the configuration pull');
        const log = readLog(logFile);
        const server = log.find((e) => e.event === 'start' && e.args[0] === '-m');
        assert.deepEqual(server.args, ['-m', 'dbheal_lsp']);
        assert.equal(server.cwd, fs.realpathSync(fake.folders[0].uri.fsPath));
        const expected = {
            database: 'app.db',
            checkOn: 'save',
            debounceMs: 100,
            periodicScanMinutes: 5,
            severity: { MISSING_INDEX: 'critical' },
        };
        const initialize = log.find((e) => e.event === 'message' && e.params && e.method === 'initialize');
        assert.deepEqual(initialize.params.initializationOptions, expected);
        assert.equal(initialize.params.rootUri, fake.folders[0].uri.toString());
        const pulled = log.find((e) => e.event === 'configuration');
        assert.deepEqual(pulled.answer, [expected]);
        // The server's commands became VS Code commands (for its code actions), beside ours.
        for (const command of ['dbheal.scanWorkspace', 'dbheal.applyMigration', 'dbheal.rollback', 'dbheal.showHistory', 'dbheal.scan']) {
            assert.ok(fake.commands.has(command), command);
        }
        await fake.commands.get('dbheal.scan')!();
        const executed = readLog(logFile).filter((e) => e.method === 'workspace/executeCommand');
        assert.deepEqual(executed.map((e) => e.params), [{ command: 'dbheal.scanWorkspace', arguments: [] }]);
        assert.deepEqual(fake.messages.map((m) => m.text), ['dbheal: scanned 2 files: 1 issue']);
        await extension.deactivate();
        await waitFor(() => readLog(logFile).some((e) => e.event === 'exit'), 'the server to exit');
    });

    it('without dbheal: one message with the pip command, no server started', async () => {
        const python = fakePython(dir, 'python', 'missing');
        fake.settings['dbheal.interpreter'] = python;
        await extension.activate(context);
        await settle();
        assert.deepEqual(
            fake.messages.map((m) => m.text),
            [`dbheal is not installed in ${python}. Install it with: ${python} -m pip install dbheal-lsp`],
        );
        assert.ok(!readLog(logFile).some((e) => e.args[0] === '-m'));
    });

    it('a server that exits at once: one message, and no restart', async () => {
        const python = fakePython(dir, 'python', 'exits');
        fake.settings['dbheal.interpreter'] = python;
        await extension.activate(context);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(fake.messages.length, 1, JSON.stringify(fake.messages));
        assert.match(fake.messages[0].text, /exited as soon as it started/);
        assert.equal(readLog(logFile).filter((e) => e.event === 'start' && e.args[0] === '-m').length, 1);
        const log = fake.outputChannels.find((c) => c.name === 'dbheal')!.text();
        assert.match(log, /usage: dbheal/);
    });
});
