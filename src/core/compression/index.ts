// Compressed-size estimates of a closure (zstd, xz, or a binary cache's FileSize).
export * from './compressedSize';
