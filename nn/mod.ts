/**
 * Neural-network layers, losses and initialisers.
 *
 * @module
 */

export {};
