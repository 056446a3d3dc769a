#!/usr/bin/env node
// The `multiplane` CLI entry: runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../apiserver/src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
