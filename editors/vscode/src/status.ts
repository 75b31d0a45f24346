// The status bar item: dbheal's issues by severity, from the diagnostics of source "dbheal".
// The server maps critical → Error, high → Warning, medium → Information, low → Hint.

import * as vscode from 'vscode';
import type { ServerStatus } from './client';

export const DIAGNOSTIC_SOURCE = 'dbheal';
export const PROBLEMS_COMMAND = 'workbench.actions.view.problems';

export interface SeverityCounts {
    critical: number;
    high: number;
    medium: number;
    low: number;
}

export function countIssues(all: ReadonlyArray<[vscode.Uri, readonly vscode.Diagnostic[]]>): SeverityCounts {
    const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0 };
    for (const [, diagnostics] of all) {
        for (const diagnostic of diagnostics) {
            if (diagnostic.source !== DIAGNOSTIC_SOURCE) {
                continue;
            }
            switch (diagnostic.severity) {
                case vscode.DiagnosticSeverity.Error:
                    counts.critical++;
                    break;
                case vscode.DiagnosticSeverity.Warning:
                    counts.high++;
                    break;
                case vscode.DiagnosticSeverity.Information:
                    counts.medium++;
                    break;
                default:
                    counts.low++;
            }
        }
    }
    return counts;
}

export function statusText(counts: SeverityCounts, server: ServerStatus): string {
    if (server === 'failed') {
        return '$(database) dbheal $(warning) not running';
    }
    if (server === 'starting') {
        return '$(database) dbheal $(sync~spin)';
    }
    const total = counts.critical + counts.high + counts.medium + counts.low;
    if (total === 0) {
        return '$(database) dbheal $(check)';
    }
    const parts = (['critical', 'high', 'medium', 'low'] as const)
        .filter((severity) => counts[severity] > 0)
        .map((severity) => `${counts[severity]} ${severity}`);
    return `$(database) dbheal: ${parts.join(', ')}`;
}

export function statusTooltip(counts: SeverityCounts, server: ServerStatus): string {
    const lines = [
        `dbheal: ${counts.critical} critical, ${counts.high} high, ${counts.medium} medium, ${counts.low} low`,
    ];
    if (server === 'failed') {
        lines.push('The server is not running: see the dbheal log, or run "dbheal: Restart Server".');
    } else if (server === 'starting') {
        lines.push('The server is starting.');
    }
    lines.push('Click to open the Problems view.');
    return lines.join('\n');
}

export class IssueStatus implements vscode.Disposable {
    readonly item: vscode.StatusBarItem;
    private readonly disposables: vscode.Disposable[] = [];
    private server: ServerStatus = 'stopped';

    constructor() {
        this.item = vscode.window.createStatusBarItem('dbheal.issues', vscode.StatusBarAlignment.Left, 50);
        this.item.name = 'dbheal issues';
        this.item.command = PROBLEMS_COMMAND;
        this.disposables.push(this.item, vscode.languages.onDidChangeDiagnostics(() => this.update()));
        this.update();
        this.item.show();
    }

    setServerStatus(status: ServerStatus): void {
        this.server = status;
        this.update();
    }

    update(): SeverityCounts {
        const counts = countIssues(vscode.languages.getDiagnostics());
        this.item.text = statusText(counts, this.server);
        this.item.tooltip = statusTooltip(counts, this.server);
        return counts;
    }

    dispose(): void {
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
    }
}
