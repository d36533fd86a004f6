/**
 * Datasets, the DataLoader, the IDX / Fashion-MNIST reader and the embedded digits set.
 *
 * @module
 */

export {};
