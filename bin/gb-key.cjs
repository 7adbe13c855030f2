#!/usr/bin/env node
// The CLI is one bundled CommonJS file (built by `npm run build`): it starts faster than
// resolving and linking the dozens of ES modules it is made of.
"use strict";
require("../dist/cli/key-main.cjs").main();
