// The admin page: `<python> -m dbheal_lsp admin --port 0` prints its address (with a token) as its
// first line on stdout; the page is opened in the browser, and the process is stopped with the
// extension.

import * as cp from 'child_process';
import * as vscode from 'vscode';
import { PYTHON_MODULE } from './install';

export const ADMIN_START_TIMEOUT_MS = 30_000;

/** The address in the admin page's first line, e.g. `dbheal admin: http://127.0.0.1:PORT/?token=...`. */
export function parseAdminUrl(line: string): string | undefined {
    const match = /https?:\/\/\S+/.exec(line);
    return match ? match[0] : undefined;
}

export function adminArgs(): string[] {
    return ['-m', PYTHON_MODULE, 'admin', '--port', '0'];
}

export class AdminPage implements vscode.Disposable {
    private process: cp.ChildProcess | undefined;
    private url: Promise<string> | undefined;

    constructor(private readonly log: (line: string) => void) {}

    /** The page's address, starting the admin process if it does not run. */
    start(python: string, cwd: string | undefined): Promise<string> {
        if (this.url && this.process && this.process.exitCode === null && !this.process.killed) {
            return this.url;
        }
        this.url = this.spawn(python, cwd);
        this.url.catch(() => {
            this.url = undefined;
        });
        return this.url;
    }

    private spawn(python: string, cwd: string | undefined): Promise<string> {
        return new Promise((resolve, reject) => {
            const args = adminArgs();
            this.log(`Starting the admin page: ${python} ${args.join(' ')}`);
            let child: cp.ChildProcess;
            try {
                child = cp.spawn(python, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
            } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
                return;
            }
            this.process = child;
            let stdout = '';
            let stderr = '';
            let settled = false;
            const finish = (error: Error | undefined, url?: string): void => {
                if (settled) {
                    return;
                }
                settled = true;
                clearTimeout(timer);
                if (error) {
                    this.stopProcess(child);
                    reject(error);
                } else {
                    resolve(url as string);
                }
            };
            const timer = setTimeout(
                () => finish(new Error(`the admin page printed no address within ${ADMIN_START_TIMEOUT_MS / 1000} s`)),
                ADMIN_START_TIMEOUT_MS,
            );
            child.stdout?.setEncoding('utf8');
            child.stdout?.on('data', (chunk: string) => {
                if (settled) {
                    return;
                }
                stdout += chunk;
                const newline = stdout.indexOf('\n');
                if (newline < 0) {
                    return;
                }
                const first = stdout.slice(0, newline).trim();
                const url = parseAdminUrl(first);
                // The token is a secret: log the address without it.
                this.log(`Admin page: ${url ? url.replace(/token=[^&\s]*/, 'token=…') : first}`);
                finish(url ? undefined : new Error(`the admin page's first line has no address: ${first}`), url);
            });
            child.stderr?.setEncoding('utf8');
            child.stderr?.on('data', (chunk: string) => {
                stderr += chunk;
                for (const line of chunk.split(/\r?\n/)) {
                    if (line.trim()) {
                        this.log(`admin: ${line}`);
                    }
                }
            });
            child.on('error', (error) => finish(error));
            child.on('exit', (code, signal) => {
                if (this.process === child) {
                    this.process = undefined;
                    this.url = undefined;
                }
                const last = stderr.trim().split(/\r?\n/).pop() ?? '';
                finish(new Error(`the admin page exited (${signal ?? `code ${String(code)}`})${last ? `: ${last}` : ''}`));
            });
        });
    }

    private stopProcess(child: cp.ChildProcess): void {
        if (child.exitCode === null && !child.killed) {
            child.kill();
        }
        if (this.process === child) {
            this.process = undefined;
            this.url = undefined;
        }
    }

    /** Stop the admin process, if it runs. */
    stop(): void {
        if (this.process) {
            this.stopProcess(this.process);
        }
    }

    dispose(): void {
        this.stop();
    }
}

/** Open the admin page in the browser (through a forwarded port when VS Code runs remotely). */
export async function openAdminPage(admin: AdminPage, python: string, cwd: string | undefined): Promise<string> {
    const url = await admin.start(python, cwd);
    const external = await vscode.env.asExternalUri(vscode.Uri.parse(url));
    await vscode.env.openExternal(external);
    return url;
}
