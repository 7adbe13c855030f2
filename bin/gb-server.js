#!/usr/bin/env node
import { main } from "../dist/cli/server-main.js";

await main();
