// Which Python runs the server: the `dbheal.interpreter` setting, else the interpreter selected
// in the Python extension (ms-python.python), else `python3`.

import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { interpreterSetting } from './settings';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The Python used when neither the setting nor the Python extension gives one. */
export const DEFAULT_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
    /** The executable: an absolute path, or a command looked up on PATH. */
    path: string;
    source: InterpreterSource;
}

// The parts of the Python extension's API (@vscode/python-extension) that are used here; every
// one may be missing in an old or future version of that extension.
interface EnvironmentPath {
    id?: string;
    path?: string;
}

interface ResolvedEnvironment {
    path?: string;
    executable?: { uri?: vscode.Uri; sysPrefix?: string };
}

interface PythonEnvironmentsApi {
    getActiveEnvironmentPath?(resource?: vscode.Uri | vscode.WorkspaceFolder): EnvironmentPath | undefined;
    resolveEnvironment?(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

export interface PythonExtensionApi {
    environments?: PythonEnvironmentsApi;
    /** The API before `environments` (2021–2023). */
    settings?: {
        getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] | undefined };
        onDidChangeExecutionDetails?: vscode.Event<unknown>;
    };
}

/** How long to wait for the Python extension to activate before going on without it. */
export const PYTHON_EXTENSION_TIMEOUT_MS = 15_000;

function withTimeout<T>(promise: Thenable<T>, ms: number): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(undefined), ms);
        promise.then(
            (value) => {
                clearTimeout(timer);
                resolve(value);
            },
            (error: unknown) => {
                clearTimeout(timer);
                reject(error instanceof Error ? error : new Error(String(error)));
            },
        );
    });
}

/** The Python extension's API, activating it if needed; undefined if it is not installed. */
export async function pythonExtensionApi(log?: (line: string) => void): Promise<PythonExtensionApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) {
        return undefined;
    }
    try {
        if (extension.isActive) {
            return extension.exports;
        }
        const api = await withTimeout(extension.activate(), PYTHON_EXTENSION_TIMEOUT_MS);
        if (api === undefined) {
            log?.(`The Python extension did not activate within ${PYTHON_EXTENSION_TIMEOUT_MS / 1000} s: not using it.`);
        }
        return api;
    } catch (error) {
        log?.(`The Python extension failed to activate: ${String(error)}`);
        return undefined;
    }
}

/** The executable of the environment selected in the Python extension, if there is one. */
export async function pythonFromExtension(
    api: PythonExtensionApi | undefined,
    resource: vscode.Uri | undefined,
    log?: (line: string) => void,
): Promise<string | undefined> {
    if (!api) {
        return undefined;
    }
    try {
        const environments = api.environments;
        if (environments?.getActiveEnvironmentPath) {
            const active = environments.getActiveEnvironmentPath(resource);
            if (!active) {
                return undefined;
            }
            const resolved = environments.resolveEnvironment ? await environments.resolveEnvironment(active) : undefined;
            const executable = resolved?.executable?.uri?.fsPath;
            if (executable) {
                return executable;
            }
            // Unresolved (e.g. not yet discovered): the path is the executable, except for
            // environments given as a folder (a conda env without Python has no executable).
            return resolved === undefined && active.path && /python[\d.]*(\.exe)?$/i.test(active.path)
                ? active.path
                : undefined;
        }
        const command = api.settings?.getExecutionDetails?.(resource).execCommand;
        return command && command.length > 0 && command[0] ? command[0] : undefined;
    } catch (error) {
        log?.(`Could not get the interpreter from the Python extension: ${String(error)}`);
        return undefined;
    }
}

/** Expand `${workspaceFolder}`, `${userHome}`, `~` and a relative path in the setting. */
export function expandInterpreterSetting(value: string, folder: vscode.WorkspaceFolder | undefined): string {
    const home = os.homedir();
    const root = folder?.uri.fsPath;
    let out = value
        .replace(/\$\{userHome\}/g, home)
        .replace(/\$\{workspaceFolder\}/g, root ?? '${workspaceFolder}');
    if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
        out = path.join(home, out.slice(1));
    }
    // A bare command ("python3.12") is looked up on PATH; a relative path with a separator
    // (".venv/bin/python") is relative to the workspace folder.
    if (root && !path.isAbsolute(out) && /[\\/]/.test(out)) {
        out = path.join(root, out);
    }
    return out;
}

/**
 * The interpreter for the server, by precedence: the `dbheal.interpreter` setting, the Python
 * extension's selected interpreter, then `python3`.
 */
export async function resolveInterpreter(
    folder: vscode.WorkspaceFolder | undefined,
    log?: (line: string) => void,
): Promise<Interpreter> {
    const setting = interpreterSetting(folder?.uri);
    if (setting) {
        return { path: expandInterpreterSetting(setting, folder), source: 'setting' };
    }
    const fromExtension = await pythonFromExtension(await pythonExtensionApi(log), folder?.uri, log);
    if (fromExtension) {
        return { path: fromExtension, source: 'python-extension' };
    }
    return { path: DEFAULT_PYTHON, source: 'default' };
}

/** Subscribe to the Python extension's interpreter changes (a no-op without that extension). */
export async function onPythonInterpreterChange(
    listener: () => void,
    log?: (line: string) => void,
): Promise<vscode.Disposable | undefined> {
    const api = await pythonExtensionApi(log);
    const event = api?.environments?.onDidChangeActiveEnvironmentPath ?? api?.settings?.onDidChangeExecutionDetails;
    if (!event) {
        return undefined;
    }
    try {
        return event(() => listener());
    } catch (error) {
        log?.(`Could not follow the Python extension's interpreter: ${String(error)}`);
        return undefined;
    }
}
