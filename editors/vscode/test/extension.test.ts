// The extension with a fake `vscode` and a fake LanguageClient (see esbuild.mjs --tests): what
// it starts, with which settings, and what it tells the user.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import manifest from '../package.json';
import { activate, COMMANDS, deactivate, SERVER_COMMANDS } from '../src/extension';
import { resolveInterpreter } from '../src/interpreter';
import { installCommand, shellQuote } from '../src/install';
import { SERVER_SETTING_KEYS } from '../src/settings';
import { fakePython, readLog, settle, tempDir, waitFor } from './helpers';
import { behaviour, clients, CloseAction, LanguageClient, resetClients } from './stubs/languageclient';
import {
    changeSettings,
    Diagnostic,
    DiagnosticSeverity,
    EventEmitter,
    extensionContext,
    fake,
    Position,
    Range,
    resetFake,
    setDiagnostics,
    Uri,
} from './stubs/vscode';

let dir: string;
let context: ReturnType<typeof extensionContext>;
let savedPath: string | undefined;
let pythonOk: string;
let pythonOther: string;
let logFile: string;

/** A fake ms-python.python extension whose selected interpreter is `executable`. */
function pythonExtension(executable: string, { active = true } = {}) {
    const changed = new EventEmitter<unknown>();
    const api = {
        environments: {
            getActiveEnvironmentPath: () => ({ id: 'env', path: executable }),
            resolveEnvironment: (env: { path: string }) =>
                Promise.resolve({ path: env.path, executable: { uri: Uri.file(executable) } }),
            onDidChangeActiveEnvironmentPath: changed.event,
        },
    };
    const extension = {
        id: 'ms-python.python',
        isActive: active,
        exports: active ? api : undefined,
        activated: 0,
        activate() {
            extension.activated++;
            extension.isActive = true;
            extension.exports = api;
            return Promise.resolve(api);
        },
    };
    fake.extensions.set('ms-python.python', extension);
    return { extension, changed };
}

function onlyClient(): LanguageClient {
    assert.equal(clients.length, 1, `expected one LanguageClient, got ${clients.length}`);
    return clients[0];
}

async function start(): Promise<void> {
    await activate(context as never);
}

beforeEach(() => {
    resetFake();
    resetClients();
    dir = tempDir();
    logFile = path.join(dir, 'python.log');
    process.env.FAKE_PYTHON_LOG = logFile;
    pythonOk = fakePython(dir, 'python-ok', 'ok');
    pythonOther = fakePython(dir, 'python-other', 'ok');
    // `python3` on PATH is a fake too, so that the default never finds a real interpreter.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fakePython(bin, 'python3', 'ok');
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
    const project = path.join(dir, 'project');
    fs.mkdirSync(project);
    fake.folders = [{ uri: Uri.file(project), name: 'project', index: 0 }];
    context = extensionContext();
});

afterEach(async () => {
    await deactivate();
    for (const disposable of context.subscriptions) {
        disposable.dispose();
    }
    process.env.PATH = savedPath;
    delete process.env.FAKE_PYTHON_LOG;
    delete process.env.FAKE_PYTHON_QUEUE;
    fs.rmSync(dir, { recursive: true, force: true });
});

describe('the server command', () => {
    it('is `<python> -m dbheal_lsp` with no other argument, run in the workspace folder', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const client = onlyClient();
        assert.equal(client.id, 'dbheal');
        assert.equal(client.serverOptions.command, pythonOk);
        assert.deepEqual(client.serverOptions.args, ['-m', 'dbheal_lsp']);
        // No transport: with TransportKind.stdio the client would append `--stdio`.
        assert.equal(client.serverOptions.transport, undefined);
        assert.equal(client.serverOptions.options.cwd, fake.folders[0].uri.fsPath);
        assert.equal(client.starts, 1);
    });

    it('probes the interpreter with `-c "import dbheal_lsp"` before starting it', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const probes = readLog(logFile).filter((entry) => entry.event === 'start');
        assert.deepEqual(probes[0].args, ['-c', 'import dbheal_lsp']);
    });
});

describe('the interpreter', () => {
    it('is the dbheal.interpreter setting first, even with the Python extension', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        pythonExtension(pythonOther);
        await start();
        assert.equal(onlyClient().serverOptions.command, pythonOk);
    });

    it("is the Python extension's selected interpreter without the setting", async () => {
        pythonExtension(pythonOther);
        await start();
        assert.equal(onlyClient().serverOptions.command, pythonOther);
    });

    it('activates the Python extension when it is not active yet', async () => {
        const { extension } = pythonExtension(pythonOther, { active: false });
        await start();
        assert.equal(extension.activated, 1);
        assert.equal(onlyClient().serverOptions.command, pythonOther);
    });

    it('is python3 without the setting and the Python extension', async () => {
        await start();
        assert.equal(onlyClient().serverOptions.command, 'python3');
        assert.deepEqual(await resolveInterpreter(undefined), { path: 'python3', source: 'default' });
    });

    it('is python3 when the Python extension has no interpreter or fails', async () => {
        fake.extensions.set('ms-python.python', {
            isActive: true,
            exports: {
                environments: {
                    getActiveEnvironmentPath: () => {
                        throw new Error('not ready');
                    },
                },
            },
        });
        await start();
        assert.equal(onlyClient().serverOptions.command, 'python3');
        fake.extensions.set('ms-python.python', { isActive: true, exports: undefined });
        assert.equal((await resolveInterpreter(undefined)).path, 'python3');
        fake.extensions.set('ms-python.python', { isActive: false, activate: () => Promise.reject(new Error('boom')) });
        assert.equal((await resolveInterpreter(undefined)).path, 'python3');
    });

    it("uses the Python extension's older API (settings.getExecutionDetails)", async () => {
        fake.extensions.set('ms-python.python', {
            isActive: true,
            exports: { settings: { getExecutionDetails: () => ({ execCommand: [pythonOther] }) } },
        });
        await start();
        assert.equal(onlyClient().serverOptions.command, pythonOther);
    });

    it('expands ${workspaceFolder} and relative paths in the setting', async () => {
        const venv = path.join(fake.folders[0].uri.fsPath, '.venv', 'bin');
        fs.mkdirSync(venv, { recursive: true });
        const python = fakePython(venv, 'python', 'ok');
        fake.settings['dbheal.interpreter'] = '${workspaceFolder}/.venv/bin/python';
        await start();
        assert.equal(onlyClient().serverOptions.command, python);
        const folder = fake.folders[0] as never;
        fake.settings['dbheal.interpreter'] = '.venv/bin/python';
        assert.equal((await resolveInterpreter(folder)).path, python);
    });

    it('restarts the server when dbheal.interpreter changes', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        changeSettings({ 'dbheal.interpreter': pythonOther });
        await waitFor(() => clients.length === 2 && clients[1].starts === 1, 'the restart');
        assert.equal(clients[0].disposed, true);
        assert.equal(clients[1].serverOptions.command, pythonOther);
    });

    it('restarts the server when the Python extension selects another interpreter', async () => {
        const { extension, changed } = pythonExtension(pythonOk);
        await start();
        const api = extension.exports as { environments: { getActiveEnvironmentPath: () => unknown } };
        api.environments.getActiveEnvironmentPath = () => ({ id: 'other', path: pythonOther });
        (api.environments as Record<string, unknown>).resolveEnvironment = () =>
            Promise.resolve({ executable: { uri: Uri.file(pythonOther) } });
        changed.fire({});
        await waitFor(() => clients.length === 2 && clients[1].starts === 1, 'the restart');
        assert.equal(clients[1].serverOptions.command, pythonOther);
    });
});

describe('the settings', () => {
    it('are passed as initializationOptions: the server settings that are set', async () => {
        Object.assign(fake.settings, {
            'dbheal.interpreter': pythonOk,
            'dbheal.database': 'instance/app.db',
            'dbheal.dialect': 'postgres',
            'dbheal.checkOn': 'change',
            'dbheal.debounceMs': 250,
            'dbheal.severity': { SELECT_STAR: 'medium' },
            'dbheal.extraCalls': ['run_sql'],
            'dbheal.trace.server': 'verbose',
        });
        await start();
        assert.deepEqual(onlyClient().clientOptions.initializationOptions, {
            database: 'instance/app.db',
            dialect: 'postgres',
            checkOn: 'change',
            debounceMs: 250,
            periodicScanMinutes: 5,
            severity: { SELECT_STAR: 'medium' },
            extraCalls: ['run_sql'],
        });
    });

    it('by default: checkOn, debounceMs and periodicScanMinutes only (the rest is pyproject.toml)', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        assert.deepEqual(onlyClient().clientOptions.initializationOptions, {
            checkOn: 'save',
            debounceMs: 100,
            periodicScanMinutes: 5,
        });
    });

    it('are synchronized: configurationSection "dbheal", Python/JS/TS documents, the dbheal output channel', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const options = onlyClient().clientOptions;
        assert.equal(options.synchronize.configurationSection, 'dbheal');
        assert.deepEqual(options.documentSelector, [
            { scheme: 'file', language: 'python' },
            { scheme: 'file', language: 'javascript' },
            { scheme: 'file', language: 'typescript' },
            { scheme: 'file', language: 'javascriptreact' },
            { scheme: 'file', language: 'typescriptreact' },
            { scheme: 'untitled', language: 'python' },
            { scheme: 'untitled', language: 'javascript' },
            { scheme: 'untitled', language: 'typescript' },
            { scheme: 'untitled', language: 'javascriptreact' },
            { scheme: 'untitled', language: 'typescriptreact' },
        ]);
        assert.equal(options.outputChannel.name, 'dbheal');
        assert.equal(options.diagnosticCollectionName, 'dbheal');
    });

    it('answer the server\'s workspace/configuration pull with the same object', async () => {
        Object.assign(fake.settings, { 'dbheal.interpreter': pythonOk, 'dbheal.migrations': 'db/migrations' });
        await start();
        const middleware = onlyClient().clientOptions.middleware.workspace;
        const raw = { interpreter: pythonOk, database: null, migrations: 'db/migrations', checkOn: 'save', debounceMs: 100, periodicScanMinutes: 5, severity: null, trace: { server: 'off' } };
        const answer = await middleware.configuration(
            { items: [{ section: 'dbheal' }, { section: 'python' }] },
            undefined,
            () => [raw, { other: 1 }],
        );
        assert.deepEqual(answer, [
            { migrations: 'db/migrations', checkOn: 'save', debounceMs: 100, periodicScanMinutes: 5 },
            { other: 1 },
        ]);
    });

    it('are sent again when they change (workspace/didChangeConfiguration)', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const client = onlyClient();
        changeSettings({ 'dbheal.periodicScanMinutes': 0, 'dbheal.identifierHelpers': ['quote_ident'] });
        let forwarded = false;
        await client.clientOptions.middleware.workspace.didChangeConfiguration(['dbheal'], () => {
            forwarded = true;
            return Promise.resolve();
        });
        assert.equal(forwarded, false);
        assert.deepEqual(client.notifications.at(-1), {
            method: 'workspace/didChangeConfiguration',
            params: {
                settings: {
                    dbheal: { checkOn: 'save', debounceMs: 100, periodicScanMinutes: 0, identifierHelpers: ['quote_ident'] },
                },
            },
        });
        // A change of the setting itself does not restart the server (only the interpreter does).
        await settle();
        assert.equal(clients.length, 1);
    });

    it('contributed in package.json are the server\'s, plus interpreter and trace.server', () => {
        const properties = Object.keys(manifest.contributes.configuration.properties).sort();
        const expected = [...SERVER_SETTING_KEYS.map((key) => `dbheal.${key}`), 'dbheal.interpreter', 'dbheal.trace.server'].sort();
        assert.deepEqual(properties, expected);
        const trace = manifest.contributes.configuration.properties['dbheal.trace.server'];
        assert.deepEqual(trace.enum, ['off', 'messages', 'verbose']);
    });
});

describe('without dbheal in the interpreter', () => {
    it('shows ONE message with the pip command, and starts no server', async () => {
        const python = fakePython(dir, 'python-missing', 'missing');
        fake.settings['dbheal.interpreter'] = python;
        fake.messageAnswers.push('Copy Command');
        await start();
        await settle();
        assert.equal(clients.length, 0);
        assert.equal(fake.messages.length, 1);
        const [message] = fake.messages;
        assert.equal(message.kind, 'error');
        assert.match(message.text, /dbheal is not installed in/);
        assert.ok(message.text.includes(`${python} -m pip install dbheal-lsp`), message.text);
        assert.deepEqual(message.buttons, ['Copy Command', 'Install in Terminal']);
        assert.equal(fake.clipboard, `${python} -m pip install dbheal-lsp`);
        assert.match(fake.statusBarItems[0].text, /not running/);
    });

    it('can run the pip command in a terminal, and restarts the server when it is closed', async () => {
        const python = fakePython(dir, 'python-missing', 'missing');
        fake.settings['dbheal.interpreter'] = python;
        fake.messageAnswers.push('Install in Terminal');
        await start();
        await settle();
        assert.equal(fake.terminals.length, 1);
        assert.deepEqual(fake.terminals[0].sent, [`${python} -m pip install dbheal-lsp`]);
        assert.equal(fake.terminals[0].shown, true);
        // "Installed": closing the terminal starts the server.
        fake.settings['dbheal.interpreter'] = pythonOk;
        fake.terminals[0].dispose();
        await waitFor(() => clients.length === 1 && clients[0].starts === 1, 'the start after install');
        assert.equal(fake.messages.length, 1);
    });

    it('quotes an interpreter path with spaces in the command', () => {
        assert.equal(installCommand('/opt/my python/bin/python3', false, 'linux'), `'/opt/my python/bin/python3' -m pip install dbheal-lsp`);
        assert.equal(installCommand('C:\\Program Files\\Python\\python.exe', false, 'win32'), '"C:\\Program Files\\Python\\python.exe" -m pip install dbheal-lsp');
        assert.equal(shellQuote('python3'), 'python3');
    });

    it('a broken install: one message, the command with --upgrade', async () => {
        const python = fakePython(dir, 'python-broken', 'broken');
        fake.settings['dbheal.interpreter'] = python;
        await start();
        assert.equal(clients.length, 0);
        assert.equal(fake.messages.length, 1);
        assert.match(fake.messages[0].text, /fails to load \(ImportError: cannot import name 'parse_one'/);
        assert.ok(fake.messages[0].text.includes(`${python} -m pip install --upgrade dbheal-lsp`));
    });

    it('an interpreter that does not exist: one message that says so', async () => {
        const python = path.join(dir, 'no-such-python');
        fake.settings['dbheal.interpreter'] = python;
        await start();
        assert.equal(clients.length, 0);
        assert.equal(fake.messages.length, 1);
        assert.match(fake.messages[0].text, /cannot run the Python interpreter .*no-such-python.*ENOENT/);
        assert.deepEqual(fake.messages[0].buttons, ['Copy Command', 'Install in Terminal', 'Open Settings']);
    });

    it('a server that exits at once: one message (ours), no restart, no notification from the client', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        behaviour.start = 'exit-at-once';
        await start();
        await settle();
        const client = onlyClient();
        assert.equal(fake.messages.length, 1);
        assert.match(fake.messages[0].text, /exited as soon as it started/);
        assert.ok(fake.messages[0].text.includes(`${pythonOk} -m pip install --upgrade dbheal-lsp`));
        assert.deepEqual(fake.messages[0].buttons, ['Copy Command', 'Install in Terminal', 'Show Log']);
        // The client's own "couldn't create connection" notification is turned off.
        assert.deepEqual(client.errors.map((e) => e.showNotification), [false]);
        assert.equal(client.starts, 1);
    });

    it('a running server that crashes is restarted, up to 4 times in 3 minutes', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const handler = onlyClient().clientOptions.errorHandler;
        const actions = [];
        for (let i = 0; i < 5; i++) {
            actions.push((await handler.closed()).action);
        }
        assert.deepEqual(actions, [CloseAction.Restart, CloseAction.Restart, CloseAction.Restart, CloseAction.Restart, CloseAction.DoNotRestart]);
    });
});

describe('the commands', () => {
    beforeEach(() => {
        fake.settings['dbheal.interpreter'] = pythonOk;
    });

    it('every contributed command is registered, and none clashes with the server\'s', async () => {
        await start();
        const contributed = manifest.contributes.commands.map((c) => c.command).sort();
        assert.deepEqual(contributed, Object.values(COMMANDS).sort());
        for (const command of contributed) {
            assert.ok(fake.commands.has(command), `${command} is not registered`);
        }
        for (const command of Object.values(SERVER_COMMANDS)) {
            assert.ok(!fake.commands.has(command), `${command} belongs to the server`);
        }
    });

    it('restart stops the client and starts a new one', async () => {
        await start();
        await fake.commands.get(COMMANDS.restartServer)!();
        assert.equal(clients.length, 2);
        assert.equal(clients[0].disposed, true);
        assert.equal(clients[1].starts, 1);
    });

    it('scan sends dbheal.scanWorkspace and says what it found', async () => {
        await start();
        behaviour.commandResults.set('dbheal.scanWorkspace', { folders: [{ root: '/p', files: 12, issues: 3 }], files: 12, issues: 3 });
        await fake.commands.get(COMMANDS.scan)!();
        assert.deepEqual(onlyClient().requests.at(-1), {
            method: 'workspace/executeCommand',
            params: { command: 'dbheal.scanWorkspace', arguments: [] },
        });
        assert.deepEqual(fake.messages.map((m) => m.text), ['dbheal: scanned 12 files: 3 issues']);
    });

    const history = [
        { id: 'F3', created_at: '2025-01-03T10:00:00', kind: 'schema', title: 'Roll back of F1', outcome: 'applied', rollback_of: 'F1' },
        { id: 'F2', created_at: '2025-01-02T10:00:00', kind: 'code', title: 'Quote the identifier', outcome: 'applied', message: 'ok' },
        { id: 'F1', created_at: '2025-01-01T10:00:00', kind: 'schema', title: 'Add index on orders(email)', outcome: 'rolled_back', rolled_back_at: '2025-01-03T10:00:00' },
        { id: 'F0', created_at: '2024-12-31T10:00:00', kind: 'schema', title: 'Failed one', outcome: 'failed' },
    ];

    it('show history asks the server (dbheal.showHistory, silent) and prints it in an output channel', async () => {
        await start();
        behaviour.commandResults.set('dbheal.showHistory', history);
        await fake.commands.get(COMMANDS.history)!();
        assert.deepEqual(onlyClient().requests.at(-1)?.params, { command: 'dbheal.showHistory', arguments: [{ silent: true }] });
        const channel = fake.outputChannels.find((c) => c.name === 'dbheal history');
        assert.ok(channel);
        const text = channel.text();
        assert.match(text, /F2 {2}2025-01-02T10:00:00 {2}applied {5}code {3}Quote the identifier/);
        assert.match(text, /F1 .* \(rolled back 2025-01-03T10:00:00\)/);
        assert.equal(fake.messages.length, 0);
    });

    it('roll back picks among the fixes that can be rolled back, confirms, sends dbheal.rollback', async () => {
        await start();
        behaviour.commandResults.set('dbheal.showHistory', history);
        behaviour.commandResults.set('dbheal.rollback', { id: 'F4', rollback_of: 'F2', outcome: 'applied' });
        fake.quickPickAnswers.push((items) => items[0]);
        fake.messageAnswers.push('Roll Back');
        await fake.commands.get(COMMANDS.rollbackFix)!();
        assert.deepEqual(
            fake.quickPicks[0].items.map((item: { detail: string }) => item.detail),
            ['F2'],
        );
        assert.equal(fake.messages[0].modal, true);
        assert.deepEqual(onlyClient().requests.at(-1)?.params, { command: 'dbheal.rollback', arguments: [{ fixId: 'F2' }] });
        // The server says how it went (window/showMessage): no second message here.
        assert.equal(fake.messages.length, 1);
    });

    it('roll back sends nothing when the user cancels', async () => {
        await start();
        behaviour.commandResults.set('dbheal.showHistory', history);
        fake.quickPickAnswers.push((items) => items[0]);
        fake.messageAnswers.push(undefined);
        await fake.commands.get(COMMANDS.rollbackFix)!();
        assert.ok(!onlyClient().requests.some((r) => r.params.command === 'dbheal.rollback'));
    });

    it('apply a queued migration asks which one (dbheal.listQueue), then sends dbheal.applyMigration', async () => {
        await start();
        behaviour.commandResults.set('dbheal.listQueue', [
            { id: 7, title: 'Add index on orders(customer_email)', kind: 'schema', severity: 'high', status: 'queued' },
            { id: 8, title: 'Create table user_preferences', kind: 'schema', severity: 'critical', status: 'queued' },
        ]);
        behaviour.commandResults.set('dbheal.applyMigration', { applied: true, message: 'Applied migration 8.' });
        fake.quickPickAnswers.push((items) => items[1]);
        await fake.commands.get(COMMANDS.applyQueuedMigration)!();
        assert.deepEqual(fake.quickPicks[0].items.map((i: { label: string }) => i.label), [
            'Add index on orders(customer_email)',
            'Create table user_preferences',
        ]);
        assert.deepEqual(onlyClient().requests.at(-1)?.params, { command: 'dbheal.applyMigration', arguments: [{ queueId: 8 }] });
        // The server asks (with the plan and its dry run) and reports: nothing more here.
        assert.equal(fake.messages.length, 0);
    });

    it('apply a queued migration says so when nothing is queued', async () => {
        await start();
        behaviour.commandResults.set('dbheal.listQueue', []);
        await fake.commands.get(COMMANDS.applyQueuedMigration)!();
        assert.equal(fake.quickPicks.length, 0);
        assert.match(fake.messages.at(-1)!.text, /no migration is queued/);
        assert.ok(!onlyClient().requests.some((r) => r.params.command === 'dbheal.applyMigration'));
    });

    it('a command the server reports as failed ({error}) adds no message; a failed request adds one', async () => {
        await start();
        behaviour.commandResults.set('dbheal.listQueue', { error: 'cannot open the dbheal state file' });
        await fake.commands.get(COMMANDS.applyQueuedMigration)!();
        assert.equal(fake.messages.length, 0);
        assert.equal(fake.quickPicks.length, 0);
        behaviour.commandResults.set('dbheal.scanWorkspace', new Error('Request workspace/executeCommand failed'));
        await fake.commands.get(COMMANDS.scan)!();
        assert.deepEqual(fake.messages.map((m) => m.text), ['dbheal: dbheal.scanWorkspace failed: Request workspace/executeCommand failed']);
    });

    it('open admin page runs `<python> -m dbheal_lsp admin --port 0`, opens its URL, stops it on deactivate', async () => {
        await start();
        await fake.commands.get(COMMANDS.openAdmin)!();
        assert.deepEqual(fake.opened, ['http://127.0.0.1:8765/?token=s3cret-token']);
        const admin = readLog(logFile).find((entry) => entry.args[2] === 'admin');
        assert.deepEqual(admin.args, ['-m', 'dbheal_lsp', 'admin', '--port', '0']);
        assert.equal(admin.cwd, fs.realpathSync(fake.folders[0].uri.fsPath));
        // A second time reuses the running page.
        await fake.commands.get(COMMANDS.openAdmin)!();
        assert.equal(readLog(logFile).filter((entry) => entry.event === 'start' && entry.args[2] === 'admin').length, 1);
        // The token stays out of the log.
        const log = fake.outputChannels.find((c) => c.name === 'dbheal')!.text();
        assert.ok(!log.includes('s3cret-token'));
        await deactivate();
        await waitFor(() => readLog(logFile).some((entry) => entry.event === 'admin-stopped'), 'the admin page to stop');
    });
});

describe('the status bar item', () => {
    const range = new Range(new Position(0, 0), new Position(0, 1));
    function diagnostic(severity: DiagnosticSeverity, source = 'dbheal'): Diagnostic {
        const d = new Diagnostic(range, 'x', severity);
        d.source = source;
        return d;
    }

    it('counts dbheal issues by severity and opens the Problems view', async () => {
        fake.settings['dbheal.interpreter'] = pythonOk;
        await start();
        const item = fake.statusBarItems[0];
        assert.equal(item.visible, true);
        assert.equal(item.command, 'workbench.actions.view.problems');
        assert.equal(item.text, '$(database) dbheal $(check)');
        setDiagnostics([
            [Uri.file('/p/a.py'), [diagnostic(DiagnosticSeverity.Error), diagnostic(DiagnosticSeverity.Error), diagnostic(DiagnosticSeverity.Hint)]],
            [Uri.file('/p/b.py'), [diagnostic(DiagnosticSeverity.Warning), diagnostic(DiagnosticSeverity.Error, 'Pylance')]],
        ]);
        assert.equal(item.text, '$(database) dbheal: 2 critical, 1 high, 1 low');
        assert.match(String(item.tooltip), /2 critical, 1 high, 0 medium, 1 low/);
        setDiagnostics([]);
        assert.equal(item.text, '$(database) dbheal $(check)');
    });
});

describe('package.json', () => {
    it('pins engines.vscode and @types/vscode to the same line, as vscode-languageclient 9 needs', () => {
        assert.equal(manifest.engines.vscode, '^1.82.0');
        assert.equal(manifest.devDependencies['@types/vscode'], '1.82.0');
        assert.match(manifest.dependencies['vscode-languageclient'], /^9\./);
    });

    it('activates on Python, JavaScript and TypeScript files, pyproject.toml and migrations', () => {
        assert.deepEqual(manifest.activationEvents, [
            'onLanguage:python',
            'onLanguage:javascript',
            'onLanguage:typescript',
            'onLanguage:javascriptreact',
            'onLanguage:typescriptreact',
            'workspaceContains:pyproject.toml',
            'workspaceContains:**/migrations/*.sql',
        ]);
        assert.equal(manifest.main, './dist/extension.js');
    });

    it('has the scripts CI runs', () => {
        for (const script of ['build', 'typecheck', 'lint', 'test', 'package']) {
            assert.ok(script in manifest.scripts, script);
        }
    });
});
