"""The language server: pygls front door over the engine, its triggers and file watcher."""
