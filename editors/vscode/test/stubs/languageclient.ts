// A fake of `vscode-languageclient/node` for the unit tests: a LanguageClient that records what
// it was constructed with and the requests sent through it, and answers them as told.

import { EventEmitter } from './vscode';

export enum State {
    Stopped = 1,
    Starting = 3,
    Running = 2,
}

export enum CloseAction {
    DoNotRestart = 1,
    Restart = 2,
}

export enum ErrorAction {
    Continue = 1,
    Shutdown = 2,
}

export enum RevealOutputChannelOn {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
    Never = 4,
}

export enum TransportKind {
    stdio = 0,
    ipc = 1,
    pipe = 2,
    socket = 3,
}

export const ExecuteCommandRequest = { type: { method: 'workspace/executeCommand' } };
export const DidChangeConfigurationNotification = { type: { method: 'workspace/didChangeConfiguration' } };

export interface SentRequest {
    method: string;
    params: any;
}

/** How the next start() goes: 'ok', 'exit-at-once' (the server closes before initialize) or an Error. */
export const behaviour = {
    start: 'ok' as 'ok' | 'exit-at-once' | Error,
    /** Answers to workspace/executeCommand, by command. */
    commandResults: new Map<string, unknown>(),
};

export const clients: LanguageClient[] = [];

export function resetClients(): void {
    clients.length = 0;
    behaviour.start = 'ok';
    behaviour.commandResults.clear();
}

export class LanguageClient {
    private _state: State = State.Stopped;
    private readonly stateEmitter = new EventEmitter<{ oldState: State; newState: State }>();
    readonly onDidChangeState = this.stateEmitter.event;
    readonly requests: SentRequest[] = [];
    readonly notifications: SentRequest[] = [];
    readonly errors: { message: string; showNotification: unknown }[] = [];
    starts = 0;
    disposed = false;

    constructor(
        readonly id: string,
        readonly name: string,
        readonly serverOptions: any,
        readonly clientOptions: any,
    ) {
        clients.push(this);
    }

    get state(): State {
        return this._state;
    }

    get outputChannel(): any {
        return this.clientOptions.outputChannel;
    }

    private setState(state: State): void {
        const oldState = this._state;
        this._state = state;
        this.stateEmitter.fire({ oldState, newState: state });
    }

    error(message: string, _data?: unknown, showNotification?: boolean | 'force'): void {
        this.errors.push({ message, showNotification });
    }

    async start(): Promise<void> {
        this.starts++;
        this.setState(State.Starting);
        const how = behaviour.start;
        if (how === 'exit-at-once') {
            await this.clientOptions.errorHandler.closed();
            this.error("dbheal client: couldn't create connection to server.", undefined, 'force');
            this.setState(State.Stopped);
            throw new Error('Connection closed');
        }
        if (how instanceof Error) {
            this.setState(State.Stopped);
            throw how;
        }
        this.setState(State.Running);
    }

    async stop(): Promise<void> {
        this.setState(State.Stopped);
    }

    async dispose(): Promise<void> {
        this.disposed = true;
        await this.stop();
    }

    async sendRequest(type: { method: string }, params: any): Promise<unknown> {
        this.requests.push({ method: type.method, params });
        if (type.method === 'workspace/executeCommand') {
            const result = behaviour.commandResults.get(params.command);
            if (result instanceof Error) {
                throw result;
            }
            return typeof result === 'function' ? (result as (args: unknown) => unknown)(params.arguments) : result;
        }
        return undefined;
    }

    async sendNotification(type: { method: string }, params: any): Promise<void> {
        this.notifications.push({ method: type.method, params });
    }
}
