#!/usr/bin/env node
// The charmrun command: runs the built launcher (dist/ is made by `npm install` / `npm run build`).
import "../dist/charmrun.js";
