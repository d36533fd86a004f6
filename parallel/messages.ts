/**
 * The typed messages between a pool and its workers. They carry setup and rare requests
 * (load a program, gather a state); the hot path runs over the control block instead.
 * @module
 */

/** An error as it crosses the worker boundary. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** Main thread to worker. */
export type ToWorker =
  | {
    type: "init";
    rank: number;
    size: number;
    control: Int32Array;
    timeoutMs: number;
    /** The main thread's WebAssembly heap, which the worker adopts (null without one). */
    heap: WebAssembly.Memory | null;
  }
  | { type: "load"; id: number; url: string; init: unknown }
  | { type: "call"; id: number; name: string; payload: unknown };

/** Worker to main thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "reply"; id: number; ok: true; value: unknown }
  | { type: "reply"; id: number; ok: false; error: ErrorInfo }
  | { type: "failed"; error: ErrorInfo; aborted: boolean };

/** The parts of `e` that survive structured cloning. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: "Error", message: String(e) };
}
