#!/usr/bin/env node
import { main } from "../dist/cli/client-main.js";

await main();
