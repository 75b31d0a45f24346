// The "dbheal" settings the server reads, as the client sends them.
//
// The server gets the same object three ways: as initializationOptions, in the answer to its
// workspace/configuration pulls, and in workspace/didChangeConfiguration. Only the server's own
// keys are sent (not `interpreter` or `trace`, which only the client reads), and only those with
// a value: `null` (the default of every project setting) means "not set in the editor", so that
// `[tool.dbheal]` in pyproject.toml and auto-discovery still apply.

import * as vscode from 'vscode';

export const SECTION = 'dbheal';

/** The settings the server reads, in the order the package.json contributes them. */
export const SERVER_SETTING_KEYS = [
    'database',
    'migrations',
    'dialect',
    'checkOn',
    'debounceMs',
    'periodicScanMinutes',
    'severity',
    'extraCalls',
    'identifierHelpers',
] as const;

export type ServerSettingKey = (typeof SERVER_SETTING_KEYS)[number];

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export interface ServerSettings {
    database?: string;
    migrations?: string;
    dialect?: 'sqlite' | 'postgres' | 'mysql';
    checkOn?: 'save' | 'change';
    debounceMs?: number;
    periodicScanMinutes?: number;
    severity?: Record<string, Severity>;
    extraCalls?: string[];
    identifierHelpers?: string[];
}

/** A value the editor really sets: not undefined, null or an empty string. */
function isSet(value: unknown): boolean {
    return value !== undefined && value !== null && value !== '';
}

/** A plain JSON copy: VS Code's configuration objects are proxies and may be frozen. */
function plain(value: unknown): unknown {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * Pick the server's settings out of a "dbheal" section: either a WorkspaceConfiguration or the
 * plain object the client's configuration feature computed from one.
 */
export function pickServerSettings(section: unknown): ServerSettings {
    const out: ServerSettings = {};
    if (section === null || typeof section !== 'object') {
        return out;
    }
    const getter = (section as Partial<vscode.WorkspaceConfiguration>).get;
    for (const key of SERVER_SETTING_KEYS) {
        const value =
            typeof getter === 'function'
                ? (section as vscode.WorkspaceConfiguration).get<unknown>(key)
                : (section as Record<string, unknown>)[key];
        if (isSet(value)) {
            (out as Record<string, unknown>)[key] = plain(value);
        }
    }
    return out;
}

/** The server's settings for a resource (a workspace folder) or the whole window. */
export function serverSettings(scope?: vscode.ConfigurationScope): ServerSettings {
    return pickServerSettings(vscode.workspace.getConfiguration(SECTION, scope));
}

/** The `dbheal.interpreter` setting, trimmed ("" when not set). */
export function interpreterSetting(scope?: vscode.ConfigurationScope): string {
    const value = vscode.workspace.getConfiguration(SECTION, scope).get<string | null>('interpreter');
    return typeof value === 'string' ? value.trim() : '';
}
