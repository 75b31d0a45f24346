// The accounts service: `node app.js` listens on PORT (default 3000).
"use strict";

const express = require("express");

const app = express();
app.use(express.json());
app.use(require("./routes/auth"));
app.use(require("./routes/profile"));

app.listen(Number(process.env.PORT) || 3000);
