/**
 * Where each kind of thread in this process spent its time, from Linux's
 * `/proc/self/task/<tid>/schedstat` (nanoseconds): on a core, and ready to run but waiting
 * for one, behind other threads of this process or of others. Threads are grouped by the name Deno and V8 give them: the
 * main thread "deno", the workers "worker-N", V8's helper threads (the optimizing compiler,
 * the garbage collector) "V8 DefaultWorke", the runtime's "tokio-runtime-w".
 *
 *   const before = threadTimes(); ...; const spent = threadTimesSince(before);
 */

/** Milliseconds on a core (`run`) and ready to run but waiting for one (`queued`). */
export interface ThreadTime {
  run: number;
  queued: number;
}

/** Each live thread's name and times so far, by thread id; null off Linux. */
export function threadTimes(): Map<string, ThreadTime & { name: string }> | null {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc/self/task")];
  } catch {
    return null; // not Linux, or no permission: Deno reads /proc only with -A
  }
  const threads = new Map<string, ThreadTime & { name: string }>();
  for (const entry of entries) {
    const dir = `/proc/self/task/${entry.name}`;
    try {
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      const [run, queued] = Deno.readTextFileSync(`${dir}/schedstat`).split(" ").map(Number);
      threads.set(entry.name, { name, run: run / 1e6, queued: queued / 1e6 });
    } catch {
      // the thread ended after the listing (the runtime's idle threads do): leave it out
    }
  }
  return threads;
}

/**
 * What the threads spent since `before`, summed by thread name. A thread that ended since
 * is left out; one that started counts from its start.
 */
export function threadTimesSince(
  before: Map<string, ThreadTime & { name: string }>,
): Map<string, ThreadTime> {
  const byName = new Map<string, ThreadTime>();
  for (const [tid, t] of threadTimes() ?? []) {
    const was = before.get(tid) ?? { run: 0, queued: 0 };
    const sum = byName.get(t.name) ?? { run: 0, queued: 0 };
    byName.set(t.name, {
      run: sum.run + t.run - was.run,
      queued: sum.queued + t.queued - was.queued,
    });
  }
  return byName;
}
