// Is dbheal installed in the interpreter, and if not, one message that says how to install it.

import * as cp from 'child_process';
import * as vscode from 'vscode';

export const PIP_PACKAGE = 'dbheal-lsp';
export const PYTHON_MODULE = 'dbheal_lsp';
export const PROBE_TIMEOUT_MS = 30_000;

export type ProbeResult =
    | { ok: true }
    /** The interpreter itself cannot be run (not found, not executable). */
    | { ok: false; reason: 'no-interpreter'; detail: string }
    /** The interpreter runs but has no dbheal_lsp module. */
    | { ok: false; reason: 'not-installed'; detail: string }
    /** dbheal_lsp is there but fails to import (a missing dependency, a broken install). */
    | { ok: false; reason: 'broken'; detail: string };

/** Quote an argument for the user's shell when it needs it. */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
    if (/^[\w@%+=:,./\\-]+$/.test(arg)) {
        return arg;
    }
    if (platform === 'win32') {
        return `"${arg.replace(/"/g, '""')}"`;
    }
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command that installs dbheal into `python` (`--upgrade` when an install is broken). */
export function installCommand(python: string, upgrade = false, platform: NodeJS.Platform = process.platform): string {
    return [shellQuote(python, platform), '-m', 'pip', 'install', ...(upgrade ? ['--upgrade'] : []), PIP_PACKAGE].join(' ');
}

/** The same command typed into a terminal (PowerShell needs `&` before a quoted program). */
export function terminalCommand(command: string, platform: NodeJS.Platform = process.platform): string {
    return platform === 'win32' && command.startsWith('"') ? `& ${command}` : command;
}

function lastLine(text: string): string {
    const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0);
    return lines.length > 0 ? lines[lines.length - 1] : '';
}

/** Run `<python> -c "import dbheal_lsp"` and say what it showed. */
export function probe(python: string, cwd: string | undefined): Promise<ProbeResult> {
    return new Promise((resolve) => {
        cp.execFile(
            python,
            ['-c', `import ${PYTHON_MODULE}`],
            { cwd, timeout: PROBE_TIMEOUT_MS, windowsHide: true },
            (error, _stdout, stderr) => {
                if (!error) {
                    resolve({ ok: true });
                    return;
                }
                const err = error;
                if (typeof err.code === 'string') {
                    // ENOENT, EACCES...: the interpreter could not be started at all.
                    resolve({ ok: false, reason: 'no-interpreter', detail: err.code });
                    return;
                }
                if (err.killed) {
                    resolve({ ok: false, reason: 'broken', detail: `import ${PYTHON_MODULE} took over ${PROBE_TIMEOUT_MS / 1000} s` });
                    return;
                }
                const detail = lastLine(String(stderr)) || err.message;
                if (new RegExp(`No module named '?${PYTHON_MODULE}'?$`).test(detail)) {
                    resolve({ ok: false, reason: 'not-installed', detail });
                    return;
                }
                resolve({ ok: false, reason: 'broken', detail });
            },
        );
    });
}

export interface InstallPromptResult {
    /** What the user chose: a button's title, or undefined if the message was dismissed. */
    choice: string | undefined;
    command: string;
}

export const COPY = 'Copy Command';
export const RUN_IN_TERMINAL = 'Install in Terminal';
export const SHOW_LOG = 'Show Log';
export const OPEN_SETTINGS = 'Open Settings';

/** Where a message goes when its button needs the rest of the extension. */
export interface InstallActions {
    showLog(): void;
    /** Called when the install terminal is closed: the server is started again. */
    afterInstall(): void;
    cwd: string | undefined;
}

/** The message text for a failed probe (exported for the tests). */
export function missingMessage(python: string, result: Exclude<ProbeResult, { ok: true }>): string {
    switch (result.reason) {
        case 'no-interpreter':
            return (
                `dbheal: cannot run the Python interpreter "${python}" (${result.detail}). ` +
                'Set "dbheal.interpreter" or select an interpreter in the Python extension, ' +
                `then install dbheal in it: ${installCommand(python)}`
            );
        case 'not-installed':
            return `dbheal is not installed in ${python}. Install it with: ${installCommand(python)}`;
        case 'broken':
            return (
                `dbheal is installed in ${python} but fails to load (${result.detail}). ` +
                `Reinstall it with: ${installCommand(python, true)}`
            );
    }
}

/**
 * Show ONE message for a failed probe (or a server that exited at once), with buttons that copy
 * the install command or run it in a terminal.
 */
export async function showInstallMessage(
    text: string,
    command: string,
    actions: InstallActions,
    extraButtons: string[] = [],
): Promise<InstallPromptResult> {
    const choice = await vscode.window.showErrorMessage(text, COPY, RUN_IN_TERMINAL, ...extraButtons);
    if (choice === COPY) {
        await vscode.env.clipboard.writeText(command);
    } else if (choice === RUN_IN_TERMINAL) {
        const terminal = vscode.window.createTerminal({ name: 'dbheal: install', cwd: actions.cwd });
        const closed = vscode.window.onDidCloseTerminal((t) => {
            if (t === terminal) {
                closed.dispose();
                actions.afterInstall();
            }
        });
        terminal.show();
        terminal.sendText(terminalCommand(command));
    } else if (choice === SHOW_LOG) {
        actions.showLog();
    } else if (choice === OPEN_SETTINGS) {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'dbheal.interpreter');
    }
    return { choice, command };
}

/** The message for a failed probe. */
export function showProbeFailure(
    python: string,
    result: Exclude<ProbeResult, { ok: true }>,
    actions: InstallActions,
): Promise<InstallPromptResult> {
    const command = installCommand(python, result.reason === 'broken');
    const extra = result.reason === 'no-interpreter' ? [OPEN_SETTINGS] : [];
    return showInstallMessage(missingMessage(python, result), command, actions, extra);
}

/** The message for a server that exited as soon as it started (dbheal too old, or broken). */
export function showExitedAtOnce(python: string, actions: InstallActions): Promise<InstallPromptResult> {
    const command = installCommand(python, true);
    const text =
        `dbheal: the server (${shellQuote(python)} -m ${PYTHON_MODULE}) exited as soon as it started; ` +
        `its output is in the dbheal log. Install or upgrade dbheal with: ${command}`;
    return showInstallMessage(text, command, actions, [SHOW_LOG]);
}
