"""JavaScript and TypeScript, the second source language: tree-sitter finds the statements."""
