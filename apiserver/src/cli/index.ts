// The `multiplane` command line: one binary, one subcommand per process role.
export { main } from "./main.ts";
