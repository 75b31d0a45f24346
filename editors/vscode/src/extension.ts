// dbheal for VS Code: starts the dbheal language server (`<python> -m dbheal_lsp`) for Python,
// JavaScript and TypeScript files, and adds commands, a status bar item and an output channel
// around it.
//
// The server registers its own commands (dbheal.scanWorkspace, dbheal.queueMigration,
// dbheal.applyMigration, dbheal.applyFix, dbheal.rollback, dbheal.showHistory, dbheal.listQueue)
// through the language client, which also makes them VS Code commands of the same ids while the
// server runs (its code actions use them). The palette commands here therefore have ids of their
// own, and send workspace/executeCommand themselves.

import * as vscode from 'vscode';
import { AdminPage, openAdminPage } from './admin';
import { projectCwd, projectFolder, ServerManager } from './client';
import { formatHistory, parseHistory, parseQueue, QueuedMigration, resultError, scanSummary } from './history';
import { onPythonInterpreterChange, resolveInterpreter } from './interpreter';
import { SECTION } from './settings';
import { IssueStatus } from './status';

/** The server's commands (workspace/executeCommand). */
export const SERVER_COMMANDS = {
    scanWorkspace: 'dbheal.scanWorkspace',
    queueMigration: 'dbheal.queueMigration',
    applyMigration: 'dbheal.applyMigration',
    rollback: 'dbheal.rollback',
    showHistory: 'dbheal.showHistory',
    listQueue: 'dbheal.listQueue',
} as const;

/** The extension's own commands (contributed in package.json). */
export const COMMANDS = {
    restartServer: 'dbheal.restartServer',
    scan: 'dbheal.scan',
    applyQueuedMigration: 'dbheal.applyQueuedMigration',
    history: 'dbheal.history',
    rollbackFix: 'dbheal.rollbackFix',
    openAdmin: 'dbheal.openAdmin',
    showOutput: 'dbheal.showOutput',
} as const;

interface State {
    output: vscode.OutputChannel;
    history: vscode.OutputChannel;
    server: ServerManager;
    admin: AdminPage;
    status: IssueStatus;
}

let state: State | undefined;

/** For the tests: what activate() made. */
export function _state(): State | undefined {
    return state;
}

function errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

/** Log a command's result in the dbheal output channel. */
function logResult(s: State, command: string, result: unknown): void {
    const text = JSON.stringify(result) ?? 'undefined';
    s.output.appendLine(`[dbheal] ${command} → ${text.length > 2000 ? `${text.slice(0, 2000)}…` : text}`);
}

/**
 * Run one of the server's commands. The server shows its own messages (outcomes, confirmations
 * with the plan and its dry run, errors: then the result is `{error}`), so the result is only
 * logged here; undefined when the command failed.
 */
async function serverCommand(s: State, command: string, args: unknown[]): Promise<unknown> {
    try {
        const result = await s.server.executeCommand(command, args);
        logResult(s, command, result);
        return resultError(result) === undefined ? result : undefined;
    } catch (error) {
        void vscode.window.showErrorMessage(`dbheal: ${command} failed: ${errorText(error)}`);
        return undefined;
    }
}

/** The fix history, without the server's own "dbheal history" notification. */
function fetchHistory(s: State): Promise<unknown> {
    return serverCommand(s, SERVER_COMMANDS.showHistory, [{ silent: true }]);
}

async function scanWorkspace(s: State): Promise<void> {
    // The server reports the scan's progress itself; say what it found at the end.
    const result = await serverCommand(s, SERVER_COMMANDS.scanWorkspace, []);
    const summary = scanSummary(result);
    if (summary) {
        void vscode.window.showInformationMessage(`dbheal: ${summary}`);
    }
}

async function pickQueued(s: State): Promise<QueuedMigration | undefined> {
    const result = await serverCommand(s, SERVER_COMMANDS.listQueue, []);
    if (result === undefined) {
        return undefined;
    }
    const queue = parseQueue(result) ?? [];
    if (queue.length === 0) {
        void vscode.window.showInformationMessage(
            'dbheal: no migration is queued. Schema fixes are queued from the quick fixes of an issue.',
        );
        return undefined;
    }
    const pick = await vscode.window.showQuickPick(
        queue.map((entry) => ({
            label: entry.title || `migration ${entry.id}`,
            description: [entry.severity, entry.kind].filter(Boolean).join(' · '),
            detail: [`#${entry.id}`, entry.database, entry.createdAt].filter(Boolean).join('  '),
            entry,
        })),
        { title: 'dbheal: apply a queued migration', placeHolder: 'Which migration?', matchOnDetail: true },
    );
    return pick?.entry;
}

async function applyQueuedMigration(s: State, id?: unknown): Promise<void> {
    let queueId: unknown = typeof id === 'string' || typeof id === 'number' ? id : undefined;
    if (queueId === undefined) {
        queueId = (await pickQueued(s))?.id;
        if (queueId === undefined) {
            return;
        }
    }
    // The server shows the plan and its dry run and asks before applying, then says how it went.
    await serverCommand(s, SERVER_COMMANDS.applyMigration, [{ queueId }]);
}

async function showHistory(s: State): Promise<void> {
    const result = await fetchHistory(s);
    if (result === undefined) {
        return;
    }
    s.history.clear();
    s.history.appendLine(formatHistory(parseHistory(result)));
    s.history.show(true);
}

async function rollbackFix(s: State, id?: unknown): Promise<void> {
    let chosen: { id: string; title: string } | undefined;
    if (typeof id === 'string' || typeof id === 'number') {
        chosen = { id: String(id), title: String(id) };
    } else {
        const result = await fetchHistory(s);
        if (result === undefined) {
            return;
        }
        const records = parseHistory(result).filter((record) => record.canRollBack);
        if (records.length === 0) {
            void vscode.window.showInformationMessage('dbheal: there is no applied fix to roll back.');
            return;
        }
        const pick = await vscode.window.showQuickPick(
            records.map((record) => ({
                label: record.title || record.id,
                description: [record.kind, record.createdAt].filter(Boolean).join(' · '),
                detail: record.id,
                record,
            })),
            { title: 'dbheal: roll back a fix', placeHolder: 'Which fix? (newest first)', matchOnDetail: true },
        );
        if (!pick) {
            return;
        }
        chosen = { id: pick.record.id, title: pick.label };
    }
    const confirm = await vscode.window.showWarningMessage(
        `Roll back "${chosen.title}"? Its database and files are restored from its backup.`,
        { modal: true },
        'Roll Back',
    );
    if (confirm !== 'Roll Back') {
        return;
    }
    // The server says how it went.
    await serverCommand(s, SERVER_COMMANDS.rollback, [{ fixId: chosen.id }]);
}

async function pythonFor(s: State): Promise<string> {
    return s.server.interpreter?.path ?? (await resolveInterpreter(projectFolder())).path;
}

async function openAdmin(s: State): Promise<void> {
    try {
        await openAdminPage(s.admin, await pythonFor(s), projectCwd());
    } catch (error) {
        void vscode.window.showErrorMessage(`dbheal: could not open the admin page: ${errorText(error)}`, 'Show Log').then(
            (choice) => choice && s.output.show(true),
        );
    }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const output = vscode.window.createOutputChannel('dbheal');
    const history = vscode.window.createOutputChannel('dbheal history');
    const server = new ServerManager(output);
    const admin = new AdminPage((line) => output.appendLine(`[dbheal] ${line}`));
    const status = new IssueStatus();
    const s: State = { output, history, server, admin, status };
    state = s;
    let serverRoot = projectFolder()?.uri.toString();

    context.subscriptions.push(
        output,
        history,
        server,
        admin,
        status,
        server.onDidChangeStatus((value) => status.setServerStatus(value)),
        vscode.commands.registerCommand(COMMANDS.restartServer, () => server.restart()),
        vscode.commands.registerCommand(COMMANDS.scan, () => scanWorkspace(s)),
        vscode.commands.registerCommand(COMMANDS.applyQueuedMigration, (id?: unknown) => applyQueuedMigration(s, id)),
        vscode.commands.registerCommand(COMMANDS.history, () => showHistory(s)),
        vscode.commands.registerCommand(COMMANDS.rollbackFix, (id?: unknown) => rollbackFix(s, id)),
        vscode.commands.registerCommand(COMMANDS.openAdmin, () => openAdmin(s)),
        vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
        // A different interpreter means a different server process.
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(`${SECTION}.interpreter`)) {
                admin.stop();
                void server.restart();
            }
        }),
        // The server runs in the first workspace folder: restart it when that folder changes.
        vscode.workspace.onDidChangeWorkspaceFolders(() => {
            const root = projectFolder()?.uri.toString();
            if (root !== serverRoot) {
                serverRoot = root;
                admin.stop();
                void server.restart();
            }
        }),
    );

    void onPythonInterpreterChange(() => {
        if (server.interpreter?.source !== 'setting') {
            admin.stop();
            void server.restart();
        }
    }, (line) => output.appendLine(`[dbheal] ${line}`)).then((disposable) => {
        if (disposable) {
            context.subscriptions.push(disposable);
        }
    });

    await server.start();
}

export async function deactivate(): Promise<void> {
    const s = state;
    state = undefined;
    if (!s) {
        return;
    }
    s.admin.stop();
    await s.server.shutdown();
}
