// One better-sqlite3 connection for the app, and a small promise-returning query() over it.
"use strict";

const path = require("node:path");
const Database = require("better-sqlite3");

const db = new Database(process.env.ACCOUNTS_DB || path.join(__dirname, "accounts.db"));
db.pragma("foreign_keys = ON");

/** Run `sql` with `params` and resolve to its rows (the pg-style API the routes were written for). */
async function query(sql, params = []) {
  const statement = db.prepare(sql);
  return statement.reader ? statement.all(...params) : statement.run(...params);
}

module.exports = { db, query };
