// CPU time of a process, for benchmarks that judge changes by CPU per operation (wall-clock
// rates are noisy on a shared machine). Linux only: /proc/<pid>/stat.

import { readFileSync } from "node:fs";

const clockTicks = 100; // USER_HZ, 100 on Linux

/** A process's CPU time so far in ms (utime + stime of /proc/<pid>/stat, all threads). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesized command: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}
