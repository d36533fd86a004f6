/**
 * Checkpoints: safetensors files of state dicts, written atomically.
 *
 * @module
 */

export {};
