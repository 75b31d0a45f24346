// A small fake of the `vscode` module: enough of the API for the extension (and, through
// `vscodeModule`, for vscode-languageclient inside dist/extension.js) to run under `node --test`.
// Everything the extension asks of VS Code is recorded in `fake`, and its answers (settings,
// message buttons, quick pick choices, the Python extension) are set there by the tests.

import * as path from 'path';
import manifest from '../../package.json';

type Listener<T> = (event: T) => unknown;

export class Disposable {
    constructor(private readonly callOnDispose?: () => unknown) {}
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => items.forEach((item) => item.dispose()));
    }
    dispose(): void {
        this.callOnDispose?.();
    }
}

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    readonly event = (listener: Listener<T>, thisArg?: unknown, disposables?: Disposable[]): Disposable => {
        const bound: Listener<T> = thisArg ? listener.bind(thisArg) : listener;
        this.listeners.push(bound);
        const disposable = new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== bound);
        });
        disposables?.push(disposable);
        return disposable;
    };
    fire(event: T): void {
        for (const listener of [...this.listeners]) {
            listener(event);
        }
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly authority: string,
        readonly path: string,
        readonly query: string,
        readonly fragment: string,
    ) {}
    static file(fsPath: string): Uri {
        return new Uri('file', '', fsPath.replace(/\\/g, '/'), '', '');
    }
    static parse(value: string): Uri {
        const match = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
        if (!match) {
            throw new Error(`invalid uri ${value}`);
        }
        return new Uri(match[1], match[2] ?? '', match[3] ?? '', match[4] ?? '', match[5] ?? '');
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
        return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts), '', '');
    }
    static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
        return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
    }
    get fsPath(): string {
        return this.path;
    }
    with(change: Partial<{ scheme: string; authority: string; path: string; query: string; fragment: string }>): Uri {
        return new Uri(
            change.scheme ?? this.scheme,
            change.authority ?? this.authority,
            change.path ?? this.path,
            change.query ?? this.query,
            change.fragment ?? this.fragment,
        );
    }
    toString(): string {
        return (
            `${this.scheme}:` +
            (this.authority || this.scheme === 'file' ? `//${this.authority}` : '') +
            this.path +
            (this.query ? `?${this.query}` : '') +
            (this.fragment ? `#${this.fragment}` : '')
        );
    }
    toJSON(): unknown {
        return { scheme: this.scheme, authority: this.authority, path: this.path, query: this.query, fragment: this.fragment };
    }
}

export enum DiagnosticSeverity {
    Error = 0,
    Warning = 1,
    Information = 2,
    Hint = 3,
}

export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}

export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}

export enum ConfigurationTarget {
    Global = 1,
    Workspace = 2,
    WorkspaceFolder = 3,
}

export class Position {
    constructor(
        readonly line: number,
        readonly character: number,
    ) {}
}

export class Range {
    constructor(
        readonly start: Position,
        readonly end: Position,
    ) {}
}

export class Diagnostic {
    source?: string;
    code?: string | number;
    constructor(
        readonly range: Range,
        readonly message: string,
        readonly severity: DiagnosticSeverity = DiagnosticSeverity.Error,
    ) {}
}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    readonly token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };
    cancel(): void {
        if (!this.token.isCancellationRequested) {
            this.token.isCancellationRequested = true;
            this.emitter.fire();
        }
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export class CancellationError extends Error {}

export class CodeActionKind {
    static readonly Empty = new CodeActionKind('');
    static readonly QuickFix = new CodeActionKind('quickfix');
    static readonly Refactor = new CodeActionKind('refactor');
    static readonly Source = new CodeActionKind('source');
    static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
    static readonly SourceFixAll = new CodeActionKind('source.fixAll');
    constructor(readonly value: string) {}
    append(part: string): CodeActionKind {
        return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
    }
    contains(other: CodeActionKind): boolean {
        return this.value === other.value || other.value.startsWith(`${this.value}.`);
    }
    intersects(other: CodeActionKind): boolean {
        return this.contains(other) || other.contains(this);
    }
}

// --- what the tests control and read ---------------------------------------------------------

export interface Message {
    kind: 'error' | 'warning' | 'info';
    text: string;
    buttons: string[];
    modal: boolean;
}

export interface FakeTerminal {
    name: string;
    cwd?: string;
    sent: string[];
    shown: boolean;
    show(): void;
    sendText(text: string): void;
    dispose(): void;
}

export interface FakeOutputChannel {
    name: string;
    lines: string[];
    text(): string;
    append(value: string): void;
    appendLine(value: string): void;
    replace(value: string): void;
    clear(): void;
    show(): void;
    hide(): void;
    dispose(): void;
}

export interface FakeStatusBarItem {
    id: string;
    alignment: StatusBarAlignment;
    priority: number | undefined;
    name: string | undefined;
    text: string;
    tooltip: string | undefined;
    command: string | undefined;
    visible: boolean;
    show(): void;
    hide(): void;
    dispose(): void;
}

const contributed = manifest.contributes.configuration.properties as Record<string, { default?: unknown }>;

function freshFake() {
    return {
        /** User settings by full key ("dbheal.interpreter"); contributed defaults apply otherwise. */
        settings: {} as Record<string, unknown>,
        folders: [] as { uri: Uri; name: string; index: number }[],
        messages: [] as Message[],
        /** Answers to the next messages, in order (a button title, or undefined). */
        messageAnswers: [] as (string | undefined)[],
        quickPicks: [] as { items: any[]; options: any }[],
        /** Chooses the item of each quick pick, in order. */
        quickPickAnswers: [] as ((items: any[]) => any)[],
        commands: new Map<string, (...args: any[]) => unknown>(),
        executedCommands: [] as { command: string; args: unknown[] }[],
        outputChannels: [] as FakeOutputChannel[],
        statusBarItems: [] as FakeStatusBarItem[],
        terminals: [] as FakeTerminal[],
        clipboard: '',
        opened: [] as string[],
        diagnostics: [] as [Uri, Diagnostic[]][],
        /** What extensions.getExtension returns, by id. */
        extensions: new Map<string, unknown>(),
        onDidChangeConfiguration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
        onDidChangeDiagnostics: new EventEmitter<{ uris: Uri[] }>(),
        onDidCloseTerminal: new EventEmitter<FakeTerminal>(),
        onDidChangeWorkspaceFolders: new EventEmitter<unknown>(),
    };
}

export let fake = freshFake();

/** Forget everything: before each test. */
export function resetFake(): void {
    for (const emitter of [
        fake.onDidChangeConfiguration,
        fake.onDidChangeDiagnostics,
        fake.onDidCloseTerminal,
        fake.onDidChangeWorkspaceFolders,
    ]) {
        emitter.dispose();
    }
    fake = freshFake();
}

/** Change settings the way the user would: store them, then fire onDidChangeConfiguration. */
export function changeSettings(values: Record<string, unknown>): void {
    Object.assign(fake.settings, values);
    const keys = Object.keys(values);
    fake.onDidChangeConfiguration.fire({
        affectsConfiguration: (section: string) =>
            keys.some((key) => key === section || key.startsWith(`${section}.`) || section.startsWith(`${key}.`)),
    });
}

/** Set the diagnostics getDiagnostics() returns, and fire onDidChangeDiagnostics. */
export function setDiagnostics(entries: [Uri, Diagnostic[]][]): void {
    fake.diagnostics = entries;
    fake.onDidChangeDiagnostics.fire({ uris: entries.map(([uri]) => uri) });
}

function allSettings(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(contributed)) {
        out[key] = schema.default;
    }
    return { ...out, ...fake.settings };
}

/** The value at a full key: a leaf, or the object of all keys below it. */
function settingValue(fullKey: string): unknown {
    const all = allSettings();
    if (Object.prototype.hasOwnProperty.call(all, fullKey)) {
        return all[fullKey];
    }
    let found = false;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(`${fullKey}.`)) {
            found = true;
            const parts = key.slice(fullKey.length + 1).split('.');
            let target = out;
            for (const part of parts.slice(0, -1)) {
                target = (target[part] ??= {}) as Record<string, unknown>;
            }
            target[parts[parts.length - 1]] = value;
        }
    }
    return found ? out : undefined;
}

function configuration(section?: string) {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    const config: Record<string, unknown> = {
        get<T>(key: string, defaultValue?: T): T | undefined {
            const value = settingValue(full(key)) as T | undefined;
            return value === undefined ? defaultValue : value;
        },
        has(key: string): boolean {
            return settingValue(full(key)) !== undefined;
        },
        inspect(key: string) {
            return { key: full(key), defaultValue: contributed[full(key)]?.default, globalValue: fake.settings[full(key)] };
        },
        update(key: string, value: unknown): Promise<void> {
            changeSettings({ [full(key)]: value });
            return Promise.resolve();
        },
    };
    // Like VS Code, the section's values are also properties of the configuration object.
    const own = section ? settingValue(section) : undefined;
    if (own && typeof own === 'object') {
        for (const [key, value] of Object.entries(own)) {
            if (!(key in config)) {
                config[key] = value;
            }
        }
    }
    return config;
}

function outputChannel(name: string): FakeOutputChannel {
    const channel: FakeOutputChannel = {
        name,
        lines: [],
        text: () => channel.lines.join(''),
        append: (value) => void channel.lines.push(value),
        appendLine: (value) => void channel.lines.push(`${value}\n`),
        replace: (value) => void (channel.lines = [value]),
        clear: () => void (channel.lines = []),
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
    };
    fake.outputChannels.push(channel);
    return channel;
}

function showMessage(kind: Message['kind']) {
    return (text: string, ...rest: unknown[]): Promise<any> => {
        let modal = false;
        const buttons: string[] = [];
        const items: unknown[] = [];
        for (const item of rest) {
            if (typeof item === 'string') {
                buttons.push(item);
                items.push(item);
            } else if (item && typeof item === 'object' && 'title' in item) {
                buttons.push(String((item).title));
                items.push(item);
            } else if (item && typeof item === 'object' && 'modal' in item) {
                modal = Boolean((item).modal);
            }
        }
        fake.messages.push({ kind, text, buttons, modal });
        const answer = fake.messageAnswers.shift();
        return Promise.resolve(answer === undefined ? undefined : items[buttons.indexOf(answer)]);
    };
}

export const window = {
    createOutputChannel: (name: string) => outputChannel(name),
    createStatusBarItem(id: string, alignment: StatusBarAlignment, priority?: number): FakeStatusBarItem {
        const item: FakeStatusBarItem = {
            id,
            alignment,
            priority,
            name: undefined,
            text: '',
            tooltip: undefined,
            command: undefined,
            visible: false,
            show: () => void (item.visible = true),
            hide: () => void (item.visible = false),
            dispose: () => void (item.visible = false),
        };
        fake.statusBarItems.push(item);
        return item;
    },
    showErrorMessage: showMessage('error'),
    showWarningMessage: showMessage('warning'),
    showInformationMessage: showMessage('info'),
    showQuickPick(items: any[] | Promise<any[]>, options?: unknown): Promise<any> {
        return Promise.resolve(items).then((list) => {
            fake.quickPicks.push({ items: list, options });
            const choose = fake.quickPickAnswers.shift();
            return choose ? choose(list) : undefined;
        });
    },
    withProgress<T>(_options: unknown, task: (progress: unknown, token: unknown) => Promise<T>): Promise<T> {
        return task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: () => new Disposable() });
    },
    createTerminal(options: { name: string; cwd?: string }): FakeTerminal {
        const terminal: FakeTerminal = {
            name: options.name,
            cwd: options.cwd,
            sent: [],
            shown: false,
            show: () => void (terminal.shown = true),
            sendText: (text: string) => void terminal.sent.push(text),
            dispose: () => fake.onDidCloseTerminal.fire(terminal),
        };
        fake.terminals.push(terminal);
        return terminal;
    },
    get onDidCloseTerminal() {
        return fake.onDidCloseTerminal.event;
    },
    activeTextEditor: undefined as unknown,
    visibleTextEditors: [] as unknown[],
    onDidChangeActiveTextEditor: () => new Disposable(),
    onDidChangeVisibleTextEditors: () => new Disposable(),
    tabGroups: { all: [], onDidChangeTabs: () => new Disposable(), onDidChangeTabGroups: () => new Disposable() },
};

export const workspace = {
    getConfiguration: (section?: string, _scope?: unknown) => configuration(section),
    get workspaceFolders() {
        return fake.folders.length > 0 ? fake.folders : undefined;
    },
    getWorkspaceFolder: (uri: Uri) => fake.folders.find((folder) => uri.path.startsWith(folder.uri.path)),
    get onDidChangeConfiguration() {
        return fake.onDidChangeConfiguration.event;
    },
    get onDidChangeWorkspaceFolders() {
        return fake.onDidChangeWorkspaceFolders.event;
    },
    createFileSystemWatcher: (glob: string) => ({
        glob,
        onDidCreate: () => new Disposable(),
        onDidChange: () => new Disposable(),
        onDidDelete: () => new Disposable(),
        dispose: () => undefined,
    }),
    textDocuments: [] as unknown[],
    notebookDocuments: [] as unknown[],
    onDidOpenTextDocument: () => new Disposable(),
    onDidCloseTextDocument: () => new Disposable(),
    onDidChangeTextDocument: () => new Disposable(),
    onDidSaveTextDocument: () => new Disposable(),
    onWillSaveTextDocument: () => new Disposable(),
    onDidOpenNotebookDocument: () => new Disposable(),
    onDidCloseNotebookDocument: () => new Disposable(),
    onDidChangeNotebookDocument: () => new Disposable(),
    onDidSaveNotebookDocument: () => new Disposable(),
    onDidCreateFiles: () => new Disposable(),
    onDidRenameFiles: () => new Disposable(),
    onDidDeleteFiles: () => new Disposable(),
    onWillCreateFiles: () => new Disposable(),
    onWillRenameFiles: () => new Disposable(),
    onWillDeleteFiles: () => new Disposable(),
};

export const languages = {
    getDiagnostics: () => fake.diagnostics,
    get onDidChangeDiagnostics() {
        return fake.onDidChangeDiagnostics.event;
    },
    createDiagnosticCollection: (name?: string) => {
        const entries = new Map<string, unknown>();
        return {
            name,
            set: (uri: Uri, diagnostics: unknown) => void entries.set(uri.toString(), diagnostics),
            delete: (uri: Uri) => void entries.delete(uri.toString()),
            clear: () => entries.clear(),
            forEach: () => undefined,
            get: (uri: Uri) => entries.get(uri.toString()),
            has: (uri: Uri) => entries.has(uri.toString()),
            dispose: () => entries.clear(),
        };
    },
    match: () => 0,
};

export const commands = {
    registerCommand(id: string, handler: (...args: any[]) => unknown): Disposable {
        if (fake.commands.has(id)) {
            throw new Error(`command '${id}' already exists`);
        }
        fake.commands.set(id, handler);
        return new Disposable(() => fake.commands.delete(id));
    },
    executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
        fake.executedCommands.push({ command, args });
        const handler = fake.commands.get(command);
        return Promise.resolve(handler ? handler(...args) : undefined);
    },
    getCommands: () => Promise.resolve([...fake.commands.keys()]),
};

export const extensions = {
    getExtension: (id: string) => fake.extensions.get(id),
    all: [] as unknown[],
    onDidChange: () => new Disposable(),
};

export const env = {
    appName: 'Visual Studio Code (fake)',
    language: 'en',
    machineId: 'test',
    sessionId: 'test',
    uriScheme: 'vscode',
    clipboard: {
        writeText: (value: string) => {
            fake.clipboard = value;
            return Promise.resolve();
        },
        readText: () => Promise.resolve(fake.clipboard),
    },
    asExternalUri: (uri: Uri) => Promise.resolve(uri),
    openExternal: (uri: Uri) => {
        fake.opened.push(uri.toString());
        return Promise.resolve(true);
    },
};

export const version = '1.82.0';

/** A fresh fake ExtensionContext. */
export function extensionContext() {
    return {
        subscriptions: [] as { dispose(): unknown }[],
        extensionPath: path.resolve(__dirname, '..', '..'),
        extensionUri: Uri.file(path.resolve(__dirname, '..', '..')),
        globalState: { get: () => undefined, update: () => Promise.resolve(), keys: () => [] },
        workspaceState: { get: () => undefined, update: () => Promise.resolve(), keys: () => [] },
        asAbsolutePath: (p: string) => path.resolve(__dirname, '..', '..', p),
    };
}

/**
 * The module that `require('vscode')` returns inside dist/extension.js. vscode-languageclient
 * uses far more of the API than the extension does (classes it extends at load time, enums,
 * events of features the fake server never asks for): anything not above is a harmless stand-in.
 */
export function vscodeModule(): unknown {
    // The client registers providers for what the server offers (completion, hover, code
    // actions...): in a namespace, a missing register*/on*/create* function is a no-op.
    const namespace = <T extends object>(target: T): T =>
        new Proxy(target, {
            get(t, prop, receiver) {
                if (typeof prop === 'string' && !(prop in t) && /^(register|on|create)/.test(prop)) {
                    return () => new Disposable();
                }
                return Reflect.get(t, prop, receiver) as unknown;
            },
        });
    const known: Record<string, unknown> = {
        Disposable,
        EventEmitter,
        Uri,
        DiagnosticSeverity,
        StatusBarAlignment,
        ProgressLocation,
        ConfigurationTarget,
        Position,
        Range,
        Diagnostic,
        CodeActionKind,
        CancellationTokenSource,
        CancellationError,
        window: namespace(window),
        workspace: namespace(workspace),
        languages: namespace(languages),
        commands,
        extensions,
        env,
        version,
    };
    const standIn = (name: string): unknown => {
        // Namespaces get no-op functions returning disposables; classes and enums are empty.
        if (/^[a-z]/.test(name)) {
            return new Proxy({}, { get: (_t, prop) => (typeof prop === 'string' ? () => new Disposable() : undefined) });
        }
        return class {
            constructor(..._args: unknown[]) {}
        };
    };
    const cache = new Map<string, unknown>();
    return new Proxy(known, {
        get(target, prop) {
            if (typeof prop !== 'string') {
                return undefined;
            }
            if (prop in target) {
                return target[prop];
            }
            if (prop === '__esModule' || prop === 'default' || prop === 'then') {
                return undefined;
            }
            if (!cache.has(prop)) {
                cache.set(prop, standIn(prop));
            }
            return cache.get(prop);
        },
    });
}
