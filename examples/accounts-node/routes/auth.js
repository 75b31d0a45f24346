// Sign-in, sessions and the "signed-in devices" page.
"use strict";

const crypto = require("node:crypto");
const express = require("express");
const db = require("../db");

const router = express.Router();

function hashPassword(password, salt) {
  const digest = crypto.pbkdf2Sync(password, salt, 100000, 32, "sha256").toString("hex");
  return `${salt}$${digest}`;
}

router.post("/login", async (req, res) => {
  const { email, password } = req.body;
  const [user] = await db.query("SELECT id, password_hash FROM users WHERE email = ?", [email]);
  await db.query(
    "INSERT INTO login_attempts (email, succeeded, attempted_at) VALUES (?, ?, ?)",
    [email, user ? 1 : 0, Date.now()],
  );
  const [salt] = user ? user.password_hash.split("$") : [""];
  if (!user || hashPassword(password, salt) !== user.password_hash) {
    return res.status(401).json({ error: "wrong email or password" });
  }
  const token = crypto.randomBytes(32).toString("base64url");
  await db.query(
    "INSERT INTO sessions (id, user_id, token, created_at) VALUES (?, ?, ?, ?)",
    [crypto.randomUUID(), String(user.id), token, Date.now()],
  );
  res.json({ token });
});

// The original design's case: sessions.user_id is TEXT, and the id is made a number first.
router.get("/sessions/:userId", async (req, res) => {
  const { userId } = req.params;
  // dbheal: planted TYPE_MISMATCH, SELECT_STAR
  const session = await db.query(
    `SELECT * FROM sessions WHERE user_id = ${parseInt(userId)}`
  );
  res.json(session);
});

router.post("/logout", async (req, res) => {
  await db.query("DELETE FROM sessions WHERE token = ?", [req.get("x-session-token")]);
  res.status(204).end();
});

module.exports = router;
