// The language client: finds the interpreter, checks dbheal is installed in it, starts
// `<python> -m dbheal_lsp` over stdio, and restarts it when asked or when the interpreter changes.

import * as path from 'path';
import * as vscode from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    DidChangeConfigurationNotification,
    ErrorAction,
    ErrorHandler,
    ErrorHandlerResult,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { Interpreter, resolveInterpreter } from './interpreter';
import { InstallActions, PYTHON_MODULE, probe, showExitedAtOnce, showProbeFailure } from './install';
import { pickServerSettings, SECTION, serverSettings } from './settings';

export const CLIENT_ID = 'dbheal';
export const CLIENT_NAME = 'dbheal';

/** How many crashes of a running server (within 3 minutes) are restarted. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

/** The folder the server and the admin page run in: the first workspace folder. */
export function projectFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
}

/** The working directory for processes: the project folder, else the active file's folder. */
export function projectCwd(): string | undefined {
    const folder = projectFolder();
    if (folder) {
        return folder.uri.fsPath;
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    return active?.scheme === 'file' ? path.dirname(active.fsPath) : undefined;
}

/**
 * How the server is started: `<python> -m dbheal_lsp`, over stdio, in the project folder. No
 * `transport` is given on purpose: with TransportKind.stdio the client would append `--stdio`
 * to the arguments, and the server takes none.
 */
export function serverOptions(python: string, cwd: string | undefined): ServerOptions {
    return {
        command: python,
        args: ['-m', PYTHON_MODULE],
        options: cwd ? { cwd } : {},
    };
}

/** The languages whose documents the server checks, as VS Code names them. */
export const LANGUAGES = ['python', 'javascript', 'typescript', 'javascriptreact', 'typescriptreact'];

/** The client's options: Python, JavaScript and TypeScript documents (saved or not), the
 * "dbheal" settings, the dbheal output channel. */
export function clientOptions(
    outputChannel: vscode.OutputChannel,
    errorHandler: ErrorHandler,
    sendSettings: () => Promise<void>,
): LanguageClientOptions {
    const folder = projectFolder();
    return {
        documentSelector: ['file', 'untitled'].flatMap((scheme) =>
            LANGUAGES.map((language) => ({ scheme, language })),
        ),
        diagnosticCollectionName: CLIENT_ID,
        outputChannel,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions: serverSettings(folder?.uri),
        synchronize: {
            configurationSection: SECTION,
            fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.sql,pyproject.toml}'),
        },
        errorHandler,
        // A failed initialize is reported once (in the log and one notification), not retried.
        initializationFailedHandler: () => false,
        middleware: {
            workspace: {
                // The server pulls the "dbheal" section per workspace folder: answer with its
                // settings only, as in initializationOptions.
                configuration: async (params, token, next) => {
                    const result = await next(params, token);
                    if (!Array.isArray(result)) {
                        return result;
                    }
                    return result.map((value: unknown, i: number) =>
                        params.items[i]?.section === SECTION ? pickServerSettings(value) : value,
                    );
                },
                // Push the same object when the settings change.
                didChangeConfiguration: async (sections, next) => {
                    if (sections?.includes(SECTION)) {
                        await sendSettings();
                    } else {
                        await next(sections);
                    }
                },
            },
        },
    };
}

/** A LanguageClient whose start-up failures are reported by this extension, once. */
class DbhealClient extends LanguageClient {
    /** Set when the server exited before it answered `initialize`: the message is ours. */
    exitedAtOnce = false;

    override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
        super.error(message, data, this.exitedAtOnce ? false : showNotification);
    }

    override start(): Promise<void> {
        const started = super.start();
        // When the server exits during initialize, vscode-languageclient 9's connection-closed
        // handler clears its start promise before start() returns it: that promise is then
        // rejected with no handler. Mark it handled; the caller checks `state` afterwards.
        const pending = (this as unknown as { _onStart?: unknown })._onStart;
        if (pending instanceof Promise) {
            pending.catch(() => undefined);
        }
        return started;
    }

    override async stop(timeout?: number): Promise<void> {
        // The client calls stop() itself after a failed initialize, without waiting for it:
        // "Client is not running and can't be stopped" must not become an unhandled rejection.
        try {
            await super.stop(timeout);
        } catch (error) {
            this.outputChannel.appendLine(`[dbheal] stop: ${String(error)}`);
        }
    }
}

export type ServerStatus = 'starting' | 'running' | 'stopped' | 'failed';

export class ServerManager implements vscode.Disposable {
    private client: DbhealClient | undefined;
    private queue: Promise<unknown> = Promise.resolve();
    private disposed = false;
    private readonly statusEmitter = new vscode.EventEmitter<ServerStatus>();
    readonly onDidChangeStatus = this.statusEmitter.event;
    status: ServerStatus = 'stopped';
    interpreter: Interpreter | undefined;

    constructor(readonly output: vscode.OutputChannel) {}

    private setStatus(status: ServerStatus): void {
        this.status = status;
        this.statusEmitter.fire(status);
    }

    private log(line: string): void {
        this.output.appendLine(`[dbheal] ${line}`);
    }

    /** Run start/stop one at a time, in the order asked. */
    private serial<T>(work: () => Promise<T>): Promise<T> {
        const next = this.queue.then(work, work);
        this.queue = next.catch(() => undefined);
        return next;
    }

    private installActions(): InstallActions {
        return {
            cwd: projectCwd(),
            showLog: () => this.output.show(true),
            afterInstall: () => void this.restart(),
        };
    }

    /** Start the server unless it runs; resolve to whether it runs. */
    start(): Promise<boolean> {
        return this.serial(() => this.doStart());
    }

    stop(): Promise<void> {
        return this.serial(() => this.doStop());
    }

    restart(): Promise<boolean> {
        return this.serial(async () => {
            await this.doStop();
            return this.doStart();
        });
    }

    get running(): boolean {
        return this.client !== undefined && this.client.state === State.Running;
    }

    private async doStart(): Promise<boolean> {
        if (this.disposed) {
            return false;
        }
        if (this.client) {
            return this.running;
        }
        this.setStatus('starting');
        const folder = projectFolder();
        const cwd = projectCwd();
        const interpreter = await resolveInterpreter(folder, (line) => this.log(line));
        this.interpreter = interpreter;
        this.log(`Python: ${interpreter.path} (from ${describeSource(interpreter)})`);

        const probed = await probe(interpreter.path, cwd);
        if (!probed.ok) {
            this.log(`${interpreter.path} -c "import ${PYTHON_MODULE}" failed: ${probed.detail}`);
            this.setStatus('failed');
            void showProbeFailure(interpreter.path, probed, this.installActions());
            return false;
        }

        const restarts: number[] = [];
        let client: DbhealClient | undefined = undefined;
        const errorHandler: ErrorHandler = {
            error: (_error, _message, count): ErrorHandlerResult =>
                count !== undefined && count <= 3 ? { action: ErrorAction.Continue } : { action: ErrorAction.Shutdown },
            closed: (): CloseHandlerResult => {
                if (client && client.state === State.Starting) {
                    // Exited before answering initialize: not a dbheal server (too old) or broken.
                    client.exitedAtOnce = true;
                    this.setStatus('failed');
                    void showExitedAtOnce(interpreter.path, this.installActions());
                    return { action: CloseAction.DoNotRestart, handled: true };
                }
                const now = Date.now();
                restarts.push(now);
                while (restarts.length > 0 && now - restarts[0] > RESTART_WINDOW_MS) {
                    restarts.shift();
                }
                if (restarts.length <= MAX_RESTARTS) {
                    this.log('The server stopped; starting it again.');
                    return { action: CloseAction.Restart, handled: true };
                }
                this.setStatus('failed');
                return {
                    action: CloseAction.DoNotRestart,
                    message: `The dbheal server stopped ${restarts.length} times in 3 minutes and will not be started again. See the dbheal log; run "dbheal: Restart Server" to try again.`,
                };
            },
        };
        const sendSettings = async (): Promise<void> => {
            await client?.sendNotification(DidChangeConfigurationNotification.type, {
                settings: { [SECTION]: serverSettings(projectFolder()?.uri) },
            });
        };
        client = new DbhealClient(
            CLIENT_ID,
            CLIENT_NAME,
            serverOptions(interpreter.path, cwd),
            clientOptions(this.output, errorHandler, sendSettings),
        );
        this.client = client;
        client.onDidChangeState((event) => {
            if (this.client !== client) {
                return;
            }
            if (event.newState === State.Running) {
                this.setStatus('running');
            } else if (event.newState === State.Stopped && this.status !== 'failed') {
                this.setStatus('stopped');
            }
        });
        try {
            await client.start();
            if (client.state !== State.Running) {
                throw new Error(client.exitedAtOnce ? 'the server exited during initialize' : 'the server stopped while starting');
            }
            this.log(`Started: ${interpreter.path} -m ${PYTHON_MODULE}`);
            this.setStatus('running');
            return true;
        } catch (error) {
            // The client already logged it; a server that exited at once got our message.
            this.log(`The server did not start: ${String(error)}`);
            this.setStatus('failed');
            this.client = undefined;
            try {
                await client.dispose();
            } catch {
                // It never ran.
            }
            return false;
        }
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (!client) {
            return;
        }
        try {
            await client.dispose(5000);
        } catch (error) {
            this.log(`Stopping the server failed: ${String(error)}`);
        }
        this.setStatus('stopped');
    }

    /**
     * Run one of the server's commands (workspace/executeCommand), starting the server first if
     * it is not running. Rejects if it cannot run.
     */
    async executeCommand(command: string, args: unknown[] = []): Promise<unknown> {
        if (!this.running && !(await this.start())) {
            throw new Error('the dbheal server is not running (see the dbheal log)');
        }
        const client = this.client;
        if (!client) {
            throw new Error('the dbheal server is not running (see the dbheal log)');
        }
        return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    }

    dispose(): void {
        this.disposed = true;
        void this.doStop();
        this.statusEmitter.dispose();
    }

    /** Stop the server and wait for it (deactivate). */
    async shutdown(): Promise<void> {
        this.disposed = true;
        await this.serial(() => this.doStop());
    }
}

function describeSource(interpreter: Interpreter): string {
    switch (interpreter.source) {
        case 'setting':
            return 'the dbheal.interpreter setting';
        case 'python-extension':
            return 'the interpreter selected in the Python extension';
        case 'default':
            return 'the default: no dbheal.interpreter setting, no Python extension interpreter';
    }
}
