// dist/extension.js against the real dbheal server, when a Python with dbheal is at hand:
// $DBHEAL_PYTHON, else the repository's .venv (`make setup`). Skipped without one, so that
// `npm test` needs only node; run `make setup` first to include it.
//
// The workspace is a copy of examples/shop with its database built from migrations 001-003.

import assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { settle, tempDir } from './helpers';
import { extensionContext, fake, resetFake, Uri, vscodeModule } from './stubs/vscode';

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const BUNDLE = path.resolve(__dirname, '..', '..', 'dist', 'extension.js');

function findPython(): string | undefined {
    const candidates = [process.env.DBHEAL_PYTHON, path.join(REPO, '.venv', 'bin', 'python')];
    for (const candidate of candidates) {
        if (!candidate || !fs.existsSync(candidate)) {
            continue;
        }
        const probe = cp.spawnSync(candidate, ['-c', 'import dbheal_lsp.lsp.server, dbheal_lsp.cli.admin'], {
            timeout: 60_000,
        });
        if (probe.status === 0) {
            return candidate;
        }
    }
    return undefined;
}

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
        const load = Module.createRequire(__filename);
        const resolved = load.resolve(BUNDLE);
        delete load.cache[resolved];
        return load(resolved) as Extension;
    } finally {
        loader._load = original;
    }
}

const SHOP = path.join(REPO, 'examples', 'shop');
const python = fs.existsSync(SHOP) ? findPython() : undefined;

describe('with the real dbheal server', { skip: python ? false : 'no Python with dbheal (set DBHEAL_PYTHON or run `make setup`)' }, () => {
    let dir: string;
    let project: string;
    let extension: Extension;
    const context = extensionContext();

    before(async () => {
        dir = tempDir();
        project = path.join(dir, 'shop');
        fs.cpSync(SHOP, project, { recursive: true });
        for (const name of ['shop.db', '.dbheal']) {
            fs.rmSync(path.join(project, name), { recursive: true, force: true });
        }
        const made = cp.spawnSync(python!, [path.join(project, 'make_db.py')], { cwd: project, timeout: 60_000 });
        assert.equal(made.status, 0, String(made.stderr));
        resetFake();
        fake.folders = [{ uri: Uri.file(project), name: 'shop', index: 0 }];
        fake.settings['dbheal.interpreter'] = python;
        extension = loadBundle();
        await extension.activate(context);
    });

    after(async () => {
        await extension.deactivate();
        for (const disposable of context.subscriptions) {
            disposable.dispose();
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('starts, and its scan finds the shop\'s issues', async () => {
        const log = fake.outputChannels.find((c) => c.name === 'dbheal')!.text();
        assert.equal(fake.messages.filter((m) => m.kind === 'error').length, 0, JSON.stringify(fake.messages) + log);
        assert.match(log, /Started: .* -m dbheal_lsp/);
        await fake.commands.get('dbheal.scan')!();
        const summary = fake.messages.map((m) => m.text).find((text) => text.startsWith('dbheal: scanned'));
        assert.ok(summary, JSON.stringify(fake.messages));
        const issues = Number(/: (\d+) issues?/.exec(summary)?.[1]);
        assert.ok(issues > 0, summary);
    });

    it('answers the history and the queue', async () => {
        await fake.commands.get('dbheal.history')!();
        const history = fake.outputChannels.find((c) => c.name === 'dbheal history')!;
        assert.match(history.text(), /No fixes recorded yet|applied|failed/);
        fake.quickPickAnswers.push(() => undefined);
        await fake.commands.get('dbheal.applyQueuedMigration')!();
        const log = fake.outputChannels.find((c) => c.name === 'dbheal')!.text();
        assert.match(log, /dbheal\.listQueue → \[/);
    });

    it('opens the admin page it starts, and stops it', async () => {
        await fake.commands.get('dbheal.openAdmin')!();
        await settle();
        assert.equal(fake.opened.length, 1, JSON.stringify(fake.messages));
        assert.match(fake.opened[0], /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+$/);
        // The token is accepted: a session cookie and a redirect to the page without it.
        const response = await fetch(fake.opened[0], { redirect: 'manual' });
        assert.ok([302, 303].includes(response.status), String(response.status));
        assert.match(response.headers.get('set-cookie') ?? '', /^dbheal_admin_\d+=/);
        await extension.deactivate();
        // Stopped with the extension: the port refuses connections.
        const deadline = Date.now() + 10_000;
        let refused = false;
        while (!refused && Date.now() < deadline) {
            try {
                await fetch(fake.opened[0]);
                await new Promise((resolve) => setTimeout(resolve, 100));
            } catch {
                refused = true;
            }
        }
        assert.ok(refused, 'the admin page still answers after deactivate');
    });
});
