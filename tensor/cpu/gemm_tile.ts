/**
 * The register tile of the SIMD matmul, which its kernel (`wasm_gemm.ts`) and its packing
 * routines (`wasm_pack.ts`) share.
 * @module
 */

/**
 * Rows of the register tile: 6 x 2 accumulators, 2 B vectors and the A splat fill 15 of
 * the 16 SIMD registers of x86-64.
 */
export const MR = 6;
/** Columns of the register tile (two `f32x4` vectors). */
export const NR = 8;
