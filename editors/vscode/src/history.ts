// Reading what the server's commands return, leniently: the fix history (`dbheal.showHistory`:
// records as `dbheal history --json` prints them), the queue (`dbheal.listQueue`), a scan's summary.

export interface FixRecord {
    id: string;
    createdAt: string;
    kind: string;
    title: string;
    outcome: string;
    message: string;
    rolledBackAt: string | undefined;
    rollbackOf: string | undefined;
    canRollBack: boolean;
}

export interface QueuedMigration {
    id: string | number;
    title: string;
    kind: string;
    severity: string;
    database: string | undefined;
    createdAt: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function field(record: Json, ...names: string[]): unknown {
    for (const name of names) {
        if (record[name] !== undefined && record[name] !== null) {
            return record[name];
        }
    }
    return undefined;
}

function text(value: unknown): string {
    if (typeof value === 'string') {
        return value;
    }
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

function optionalText(value: unknown): string | undefined {
    const out = text(value);
    return out === '' ? undefined : out;
}

/** The list inside a command's result: the result itself, or its first list-valued key of `keys`. */
function listOf(result: unknown, keys: string[]): unknown[] | undefined {
    if (Array.isArray(result)) {
        return result as unknown[];
    }
    if (isObject(result)) {
        for (const key of keys) {
            const value = result[key];
            if (Array.isArray(value)) {
                return value as unknown[];
            }
        }
    }
    return undefined;
}

export function parseHistory(result: unknown): FixRecord[] {
    const items = listOf(result, ['fixes', 'history', 'records', 'items']) ?? [];
    const out: FixRecord[] = [];
    for (const item of items) {
        if (!isObject(item) || field(item, 'id') === undefined) {
            continue;
        }
        const outcome = text(field(item, 'outcome')) || 'applied';
        const rolledBackAt = optionalText(field(item, 'rolled_back_at', 'rolledBackAt'));
        const rollbackOf = optionalText(field(item, 'rollback_of', 'rollbackOf'));
        const flag = field(item, 'can_roll_back', 'canRollBack');
        out.push({
            id: text(field(item, 'id')),
            createdAt: text(field(item, 'created_at', 'createdAt')),
            kind: text(field(item, 'kind')),
            title: text(field(item, 'title')),
            outcome,
            message: text(field(item, 'message')),
            rolledBackAt,
            rollbackOf,
            canRollBack:
                typeof flag === 'boolean'
                    ? flag
                    : outcome === 'applied' && rolledBackAt === undefined && rollbackOf === undefined,
        });
    }
    return out;
}

/** The queued migrations in `dbheal.listQueue`'s result: a list of entries (or `{queue: [...]}`). */
export function parseQueue(result: unknown): QueuedMigration[] | undefined {
    const items = listOf(result, ['queue', 'queued', 'migrations']);
    if (items === undefined) {
        return undefined;
    }
    const out: QueuedMigration[] = [];
    for (const item of items) {
        if (!isObject(item) || field(item, 'id') === undefined) {
            continue;
        }
        const status = text(field(item, 'status'));
        if (status && status !== 'queued') {
            continue;
        }
        const id = field(item, 'id');
        out.push({
            id: typeof id === 'number' ? id : text(id),
            title: text(field(item, 'title')),
            kind: text(field(item, 'kind')),
            severity: text(field(item, 'severity')),
            database: optionalText(field(item, 'database')),
            createdAt: text(field(item, 'created_at', 'createdAt')),
        });
    }
    return out;
}

/** The history as text, for the "dbheal history" output channel. */
export function formatHistory(records: FixRecord[]): string {
    if (records.length === 0) {
        return 'No fixes recorded yet.';
    }
    const lines: string[] = [];
    for (const r of records) {
        const undone = r.rolledBackAt ? ` (rolled back ${r.rolledBackAt})` : '';
        const of = r.rollbackOf ? ` (rollback of ${r.rollbackOf})` : '';
        lines.push(`${r.id}  ${r.createdAt}  ${r.outcome.padEnd(11)} ${r.kind.padEnd(6)} ${r.title}${undone}${of}`);
        if (r.message && r.message !== r.title) {
            lines.push(`    ${r.message}`);
        }
    }
    return lines.join('\n');
}

/** The `error` of a command's result: the server already showed it to the user. */
export function resultError(result: unknown): string | undefined {
    if (isObject(result) && typeof result.error === 'string') {
        return result.error;
    }
    return undefined;
}

/** "12 file(s) checked, 3 issue(s)" from the scan's summary `{folders, files, issues}`. */
export function scanSummary(result: unknown): string | undefined {
    if (!isObject(result) || typeof result.files !== 'number' || typeof result.issues !== 'number') {
        return undefined;
    }
    const errors = Array.isArray(result.folders)
        ? result.folders.filter((folder) => isObject(folder) && typeof folder.error === 'string').length
        : 0;
    const files = `${result.files} file${result.files === 1 ? '' : 's'}`;
    const issues = `${result.issues} issue${result.issues === 1 ? '' : 's'}`;
    return `scanned ${files}: ${issues}` + (errors > 0 ? ` (${errors} folder${errors === 1 ? '' : 's'} could not be scanned)` : '');
}
