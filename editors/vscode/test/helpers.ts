// Shared by the tests: fake interpreters, waiting for asynchronous work.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The fake interpreter's code; the tests run from out/test/. */
export const FAKE_PYTHON = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'fake-python.mjs');

export type FakeMode = 'ok' | 'missing' | 'broken' | 'exits';

export function tempDir(prefix = 'dbheal-vscode-test-'): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An executable `name` in `dir` that behaves like a Python with dbheal in state `mode`. */
export function fakePython(dir: string, name: string, mode: FakeMode): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_PYTHON}" ${mode} "$@"\n`, { mode: 0o755 });
    return file;
}

/** The JSON lines the fake interpreters wrote to `file`. */
export function readLog(file: string): any[] {
    if (!fs.existsSync(file)) {
        return [];
    }
    return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line));
}

/** Let pending promise callbacks and I/O callbacks run. */
export async function settle(rounds = 5): Promise<void> {
    for (let i = 0; i < rounds; i++) {
        await new Promise((resolve) => setImmediate(resolve));
    }
}

/** Wait until `condition()` holds, or fail after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!condition()) {
        if (Date.now() - start > timeoutMs) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}
