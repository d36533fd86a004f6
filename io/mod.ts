/**
 * Checkpoints: safetensors files of tensors and of whole training states, written
 * atomically. `serialize`/`deserialize` work on bytes; `save`/`load` on files;
 * `saveCheckpoint`/`loadCheckpoint` keep a nested state (model, optimizer, scheduler,
 * generator, epoch, step) and rebuild it as it was.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * import { deserialize, serialize } from "@adamant/core/io";
 * const bytes = serialize({ "fc.weight": tensor([[1, 2], [3, 4]]).T });
 * const { tensors } = deserialize(bytes);
 * assert(tensors["fc.weight"].toArray().join() === "1,3,2,4");
 * ```
 * @module
 */

export {
  deserialize,
  type DeserializeOptions,
  type SafetensorsFile,
  serialize,
} from "./safetensors.ts";
export {
  type CheckpointArray,
  type CheckpointState,
  type CheckpointValue,
  deserializeCheckpoint,
  load,
  loadCheckpoint,
  save,
  saveCheckpoint,
  serializeCheckpoint,
} from "./checkpoint.ts";
