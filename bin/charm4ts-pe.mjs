#!/usr/bin/env node
// The charm4ts-pe command: a process hosting one PE that joins a runtime (dist/ is made by `npm run build`).
import "../dist/pe-process.js";
