// The account page: profile details and display preferences.
"use strict";

const express = require("express");
const db = require("../db");

const router = express.Router();

router.get("/profile/:id", async (req, res) => {
  const [user] = await db.query(
    "SELECT id, email, display_name FROM users WHERE id = ?",
    [Number(req.params.id)],
  );
  if (!user) return res.status(404).end();
  res.json(user);
});

// The original design's other case: migration 004 was never applied to the database.
router.get("/profile/:id/preferences", async (req, res) => {
  // dbheal: planted MISSING_TABLE, SELECT_STAR
  const [prefs] = await db.query("SELECT * FROM user_preferences WHERE user_id = ?", [Number(req.params.id)]);
  res.json(prefs || { theme: "light", notifications: true });
});

module.exports = router;
